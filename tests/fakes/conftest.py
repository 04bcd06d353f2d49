"""The fake Bot API the specification tests drive."""

import pytest

from tests.fakes.telegram_bot_api import FakeTelegramBotAPI, Limits


@pytest.fixture
def fake():
    """A fake without limits: the tests of the limits make their own."""
    with FakeTelegramBotAPI(limits=Limits.off()) as server:
        yield server
