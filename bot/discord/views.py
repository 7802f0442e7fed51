"""The paginator: buttons that turn pages of embeds, for the invoker only, disabled on timeout."""

from __future__ import annotations

import contextlib

import discord
from discord import ui

NOT_YOURS = "Only the person who asked can turn these pages. Run the command yourself for your own copy."


class Paginator(ui.View):
    """Pages of embeds behind ◀ / ▶ buttons.

    ``interaction_check`` admits only ``owner_id``; ``on_timeout`` disables the buttons and
    edits the message, so a stale list does not look clickable.
    """

    def __init__(self, pages: list[discord.Embed], owner_id: int, timeout: float = 300.0) -> None:
        super().__init__(timeout=timeout)
        if not pages:
            raise ValueError("a paginator needs at least one page")
        self.pages = pages
        self.owner_id = owner_id
        self.index = 0
        self.message: discord.Message | discord.WebhookMessage | None = None
        self._update_buttons()

    @property
    def page(self) -> discord.Embed:
        return self.pages[self.index]

    def _update_buttons(self) -> None:
        # Not ``_refresh``: discord.py's View uses that name for its own component refresh.
        self.previous_page.disabled = self.index == 0
        self.next_page.disabled = self.index >= len(self.pages) - 1
        self.counter.label = f"{self.index + 1}/{len(self.pages)}"

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._update_buttons()
        await interaction.response.edit_message(
            embed=self.page, view=self, allowed_mentions=discord.AllowedMentions.none()
        )

    @ui.button(label="◀", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, button: ui.Button[Paginator]) -> None:
        await self._turn(interaction, -1)

    @ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True)
    async def counter(self, interaction: discord.Interaction, button: ui.Button[Paginator]) -> None:
        """A label, never clickable."""

    @ui.button(label="▶", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction, button: ui.Button[Paginator]) -> None:
        await self._turn(interaction, 1)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, ui.Button):
                item.disabled = True
        if self.message is not None:
            # The message may be gone, or the interaction token expired: nothing left to disable.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)
