"""Telegram Bot API (https://core.telegram.org/bots/api), with python-telegram-bot."""
