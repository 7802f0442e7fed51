"""The paginator: only the invoker turns pages, the buttons follow the page, timeout disables them."""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.discord.views import NOT_YOURS, Paginator


def pages(n: int) -> list[discord.Embed]:
    return [discord.Embed(title=f"page {i}") for i in range(1, n + 1)]


def click(user_id: int) -> MagicMock:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.user = MagicMock(id=user_id)
    interaction.response = MagicMock(send_message=AsyncMock(), edit_message=AsyncMock())
    return interaction


async def test_only_the_invoker_may_turn_pages() -> None:
    view = Paginator(pages(3), owner_id=1)
    assert await view.interaction_check(click(1)) is True
    stranger = click(2)
    assert await view.interaction_check(stranger) is False
    stranger.response.send_message.assert_awaited_once_with(NOT_YOURS, ephemeral=True)


async def test_buttons_turn_pages_and_follow_the_edges() -> None:
    view = Paginator(pages(3), owner_id=1)
    assert view.previous_page.disabled and not view.next_page.disabled and view.counter.label == "1/3"
    interaction = click(1)
    await view.next_page.callback(interaction)
    await view.next_page.callback(interaction)
    kwargs = interaction.response.edit_message.await_args.kwargs
    assert kwargs["embed"].title == "page 3" and kwargs["view"] is view
    assert view.next_page.disabled and not view.previous_page.disabled and view.counter.label == "3/3"
    await view.previous_page.callback(interaction)
    assert view.page.title == "page 2"


async def test_timeout_disables_every_button_and_edits_the_message() -> None:
    view = Paginator(pages(2), owner_id=1)
    view.message = MagicMock(edit=AsyncMock())
    await view.on_timeout()
    assert all(item.disabled for item in view.children)
    view.message.edit.assert_awaited_once_with(view=view)


async def test_timeout_on_a_deleted_message_is_quiet() -> None:
    view = Paginator(pages(2), owner_id=1)
    view.message = MagicMock(edit=AsyncMock(side_effect=discord.NotFound(MagicMock(status=404), "gone")))
    await view.on_timeout()  # no exception
    assert all(item.disabled for item in view.children)


async def test_a_paginator_needs_pages() -> None:
    with pytest.raises(ValueError):
        Paginator([], owner_id=1)
