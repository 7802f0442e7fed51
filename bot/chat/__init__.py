"""Chat, whatever the surface: command parsing (``commands``), the follow-up memory of each
channel (``conversation``) and the dialogue that turns a message into a reply model
(``dialogue``). The console (``bot.console``) and Discord (``bot.discord``) render the replies."""
