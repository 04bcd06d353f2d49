"""The bots' tables: who talks to the hub (accounts), what they are told (deliveries), and what
the chat platforms sent (updates)."""

from bots.models.accounts import BotUser, FollowedDevice, Invitation, Role, Subscription
from bots.models.deliveries import Delivery, SentMessage
from bots.models.updates import ReceivedUpdate, TelegramWebhookCheck

__all__ = [
    "BotUser",
    "Delivery",
    "FollowedDevice",
    "Invitation",
    "ReceivedUpdate",
    "Role",
    "SentMessage",
    "Subscription",
    "TelegramWebhookCheck",
]
