"""`telegram.send_message`: send a text message to a chat, with python-telegram-bot.

`Bot.send_message` goes through the outbound layer's PTB adapter (retries only when the
message surely did not reach Telegram, breaker, metrics, one log line with the token masked).
Wire format: `POST /bot<token>/sendMessage` answers `{"ok": true, "result": <Message>}`;
errors are `{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}`,
401 `Unauthorized` (a revoked token), 403 `Forbidden: bot was blocked by the user`, and 429
`{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
"parameters": {"retry_after": 7}}`. PTB turns them into BadRequest, InvalidToken, Forbidden
and RetryAfter. The text is never logged, stored or returned.
"""

from asgiref.sync import async_to_sync
from django.conf import settings
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError, TimedOut

from integrations.outbound import OutboundError
from integrations.outbound.telegram import retry_after_seconds, telegram_bot
from integrations.registry import (
    BaseIntegration,
    Category,
    ErrorCode,
    IntegrationMetadata,
    IntegrationResult,
    ResolvedSecret,
)
from integrations.secrets.selectors import telegram_api_url

SERVICE = "telegram"


class SendMessage(BaseIntegration):
    service_label = "Telegram"
    metadata = IntegrationMetadata(
        id="telegram.send_message",
        version="1.0.0",
        name="Telegram: send a message",
        description="Send a text message to a chat, group or channel as the hub's bot.",
        category=Category.MESSAGING,
        config_schema={
            "type": "object",
            "properties": {
                "chat_id": {
                    "anyOf": [
                        {"type": "integer"},
                        {"type": "string", "pattern": r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$"},
                    ],
                    "description": "Numeric chat id, or @channelusername.",
                },
                "text": {"type": "string", "minLength": 1, "maxLength": 4096},
                "parse_mode": {"enum": ["HTML", "MarkdownV2", "Markdown"]},
                "disable_notification": {"type": "boolean"},
            },
            "required": ["chat_id", "text"],
            "additionalProperties": False,
        },
        library="python-telegram-bot 22.8",
        side_effecting=True,
        credentials_provider=SERVICE,
        credentials_strategy="bearer",  # a bot token, sent in the URL path by python-telegram-bot
        credentials_required=True,
        credentials_setting="TELEGRAM_BOT_TOKEN",
    )

    def execute(self, config, *, owner=None, context=None) -> IntegrationResult:
        secret = self.resolve_secret(owner)
        if secret is None:
            return self.missing_credentials()
        try:
            message = async_to_sync(self._send)(secret.value, telegram_api_url(), config)
        except TelegramError as exc:
            return self._failure(exc, secret)
        except (KeyError, TypeError, ValueError, AttributeError):  # JSON, but not a Message
            return self.unexpected_format()
        return IntegrationResult.success(
            {
                "message_id": message.message_id,
                "chat_id": message.chat.id,
                "date": message.date.isoformat() if message.date else None,
            }
        )

    async def _send(self, token: str, base_url: str, config: dict):
        chat_id = config["chat_id"]
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        async with telegram_bot(token, base_url=base_url, timeout=settings.INTEGRATIONS_HTTP_TIMEOUT_SECONDS) as bot:
            return await bot.send_message(
                chat_id=chat_id,
                text=config["text"],
                parse_mode=config.get("parse_mode"),
                disable_notification=config.get("disable_notification"),
            )

    def _failure(self, exc: TelegramError, secret: ResolvedSecret) -> IntegrationResult:
        cause = exc.__cause__
        if isinstance(cause, OutboundError):  # the adapter: timeout, connection, breaker open
            return IntegrationResult.failure(cause.code, cause.detail, retry_after=cause.retry_after)
        if isinstance(exc, RetryAfter):
            seconds = retry_after_seconds(exc)
            return IntegrationResult.failure(
                ErrorCode.RATE_LIMITED, f"Telegram: too many requests, retry after {seconds:g} s.", retry_after=seconds
            )
        if isinstance(exc, InvalidToken):  # 401, or 404 for a malformed token
            self.credentials_refused(secret, reason=f"Telegram refused the bot token: {exc.message}")
            return IntegrationResult.failure(ErrorCode.UNAUTHORIZED, f"Telegram refused the bot token ({exc.message}).")
        if isinstance(exc, Forbidden):  # the bot may not write there (blocked, kicked): not the token
            return IntegrationResult.failure(ErrorCode.FORBIDDEN, f"Telegram: {exc.message}")
        if isinstance(exc, BadRequest):
            return IntegrationResult.failure(ErrorCode.CLIENT_ERROR, f"Telegram: {exc.message}")
        if isinstance(exc, TimedOut):
            return IntegrationResult.failure(ErrorCode.TIMEOUT, "Telegram did not answer in time.")
        if type(exc) is TelegramError:  # "Invalid server response": a body PTB could not parse
            return IntegrationResult.failure(ErrorCode.BAD_RESPONSE, "Telegram answered with a malformed response.")
        # NetworkError for any other status (5xx): the message may or may not have been sent.
        return IntegrationResult.failure(ErrorCode.SERVER_ERROR, f"Telegram: {exc.message}")
