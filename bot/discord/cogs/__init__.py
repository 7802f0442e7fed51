"""One cog per area. ``create_bot`` loads every module here; each ends with ``async def setup(bot)``."""
