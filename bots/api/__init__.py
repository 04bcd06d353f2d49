"""The bots' management API, under /api/v1/bots/."""
