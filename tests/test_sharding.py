"""Sharding: each bot process serves its shard of the guilds; the options are checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from discord_fakes import settings_for
from seeded import seeded_service

from bot.discord import create_bot


def test_bot_is_created_for_its_shard(seeded_db: Path) -> None:
    bot = create_bot(settings_for(seeded_db, shard_id=1, shard_count=3), service=seeded_service(seeded_db))
    assert (bot.shard_id, bot.shard_count) == (1, 3)
    guilds = [1234567890123456789 + (i << 22) for i in range(9)]  # consecutive shards
    served = [g for g in guilds if bot.serves_guild(g)]
    assert len(served) == 3 and all((g >> 22) % 3 == 1 for g in served)
    single = create_bot(settings_for(seeded_db), service=seeded_service(seeded_db))
    assert all(single.serves_guild(g) for g in guilds) and single.serves_guild(None)


def test_run_checks_the_shard_options(tmp_path: Path) -> None:
    for args in (["--shard-id", "1"], ["--shard-id", "3", "--shard-count", "3"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(tmp_path / "db.sqlite"), "run", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "x" * 59},
        )
        assert done.returncode == 2 and "--shard-id N and --shard-count M" in done.stderr
