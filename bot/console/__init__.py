"""The terminal adapter beside ``bot.discord`` and ``bot.cli``: the console chat (``chat``) and
the rendering of replies as terminal lines (``render``)."""
