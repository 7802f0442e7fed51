"""One service over the seeded database, shared by every test module that needs one."""

from __future__ import annotations

import functools
from pathlib import Path

from bot.service import PaperService
from bot.store import SQLiteStore


@functools.cache
def seeded_service(db: Path) -> PaperService:
    """Built once per session (the embedder is off: these tests do not depend on semantics)."""
    return PaperService(SQLiteStore(db), embedder=False)
