"""What the commands answer, for an adapter to turn into its platform's calls."""

from dataclasses import dataclass, field

CALLBACK_DATA_LIMIT = 64  # bytes: Telegram's limit of a button's callback_data


@dataclass
class Button:
    """An inline button; `data` comes back in `handle_callback` when it is pressed."""

    label: str
    data: str

    def __post_init__(self):
        if len(self.data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"Callback data over {CALLBACK_DATA_LIMIT} bytes: {self.data!r}")


@dataclass
class Reply:
    """A plain-text message (never formatted: user text cannot break it) with rows of buttons.

    For a button press: `edit` replaces the message the button was on instead of sending a new
    one, `notice` is the short answer shown over the chat (a toast). An empty `text` with a
    notice is the notice alone."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False
    notice: str | None = None
