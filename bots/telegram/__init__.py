"""The Telegram side of the bots: the webhook and polling that bring updates in, the adapter that
turns the commands' replies into Bot API calls, and the notifier. Every Bot API call runs
through `bots.telegram.api`."""
