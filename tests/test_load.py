"""Load: 200 concurrent asks through the service and through the Discord adapter, with a
heartbeat watching the event loop; a burst of 100 commands against the per-user cooldown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from discord import app_commands
from discord_fakes import fake_interaction, make_bot
from seeded import seeded_service

from bot.discord.cogs.ask import Ask

QUESTIONS = [
    "what is GKD?",
    "papers by Léonard Hussenot",
    "latest on mean field games",
    "munchausen reinforcment learning",
    "similar to Hindsight Credit Assignment",
    "which paper averages reward models?",
    "RLAIF",
    "papers since 2023 about distillation",
]


class Heartbeat:
    """A task that wakes every 50 ms and records how late it was: the gateway heartbeat's view."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.05)
            self.worst = max(self.worst, time.perf_counter() - start - 0.05)

    def __enter__(self) -> Heartbeat:
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_200_concurrent_asks_through_the_service(seeded_db: Path) -> None:
    service = seeded_service(seeded_db)
    service.engine  # noqa: B018  (built before the clock starts)
    with Heartbeat() as heart:
        answers = await asyncio.gather(
            *(asyncio.to_thread(service.ask, QUESTIONS[i % len(QUESTIONS)]) for i in range(200))
        )
    assert len(answers) == 200 and all(a.text for a in answers)
    assert all(a.hits for a in answers[:8])  # every kind of question found something
    assert heart.worst < 1.0, f"the event loop stalled {heart.worst:.2f} s"


async def test_200_concurrent_slash_asks_all_deferred_in_time(seeded_db: Path) -> None:
    bot = make_bot(seeded_db)
    cog = Ask(bot)
    interactions = [fake_interaction(bot, user_id=1000 + i, channel_id=7000 + i) for i in range(200)]
    deferred_after: list[float] = []
    start = time.perf_counter()
    for interaction in interactions:
        original = interaction.response.defer.side_effect

        async def timed_defer(*args: object, _original=original, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
            deferred_after.append(time.perf_counter() - start)
            await _original(*args, **kwargs)

        interaction.response.defer.side_effect = timed_defer
    with Heartbeat() as heart:
        await asyncio.gather(
            *(cog.ask.callback(cog, it, QUESTIONS[i % len(QUESTIONS)]) for i, it in enumerate(interactions))
        )
    assert len(deferred_after) == 200 and max(deferred_after) < 3.0
    assert all(it.calls[0] == "defer" and "followup" in it.calls for it in interactions)
    assert heart.worst < 1.0, f"the event loop stalled {heart.worst:.2f} s"


@pytest.mark.parametrize("burst", [100])
async def test_cooldown_holds_under_a_burst(seeded_db: Path, burst: int) -> None:
    bot = make_bot(seeded_db, cooldown_seconds=30)
    command = next(c for c in Ask(bot).get_app_commands() if c.name == "ask")
    allowed = refused = 0
    for user in (1, 2):
        for _ in range(burst):
            interaction = fake_interaction(bot, user_id=user)
            interaction.command = command
            try:
                await command._check_can_run(interaction)
                allowed += 1
            except app_commands.CommandOnCooldown:
                refused += 1
    assert allowed == 2 and refused == 2 * burst - 2  # one per user, the rest refused
