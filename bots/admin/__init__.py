"""Admin of the bots, one module per concern: accounts (bot users, subscriptions), invitations,
deliveries (and the messages that covered them), updates (and the webhook check).

Records the hub writes are read-only here; edits go through `bots.services` and
`bots.invitations`, the same functions the management API calls."""

from bots.admin import accounts, deliveries, invitations, updates  # noqa: F401
