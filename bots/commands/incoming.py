"""What a platform adapter hands the commands: who wrote, in which chat, in which language."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Incoming:
    """A message or a button press, as every platform has it.

    `chat_*`, `username` and `display_name` describe the chat (a person in a private chat, the
    group in a group); `sender_*` the person who typed or pressed (in a private chat the same
    person), named in the history of a config change. `language_code` is the sender's client
    language (an IETF tag such as "ru" or "uk-UA"; empty when the platform does not say)."""

    platform: str
    chat_id: str
    chat_type: str  # "private", "group", "supergroup" (Telegram's names)
    username: str = ""
    display_name: str = ""
    language_code: str = ""
    sender_username: str = ""
    sender_name: str = ""

    @property
    def is_group(self) -> bool:
        return self.chat_type != "private"
