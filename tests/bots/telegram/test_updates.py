"""Updates from the webhook to the reply, through the inbox and a real Celery worker: each
update handled once, whatever Telegram redelivers; what each kind of update does."""

import time

import pytest

from bots.models import BotUser, ReceivedUpdate
from bots.telegram import ratelimit, updates
from tests.bots.telegram.conftest import fixture_update
from tests.workers import wait_until

OLGA = 111222333
GROUP = -4012345678


def replies_to(fake, chat_id) -> list[str]:
    return [message["text"] for message in fake.messages_to(chat_id)]


class TestThroughTheWorker:
    def test_start_posted_to_the_webhook_is_answered_in_the_users_language(
        self, celery_worker, fake_telegram, webhook_secret, post_update
    ):
        response = post_update(fixture_update("message_start"))

        assert response.status_code == 200
        wait_until(lambda: fake_telegram.messages_to(OLGA))
        (reply,) = replies_to(fake_telegram, OLGA)
        assert reply.startswith("Здравствуйте")  # language_code "ru"
        bot_user = BotUser.objects.get(chat_id=str(OLGA))
        assert (bot_user.username, bot_user.language, bot_user.owner) == ("olga_p", "ru", None)

    def test_an_update_telegram_redelivers_is_answered_once(
        self, celery_worker, fake_telegram, webhook_secret, post_update
    ):
        for _ in range(3):
            assert post_update(fixture_update("message_group_chatid")).status_code == 200
        post_update(fixture_update("message_start"))

        wait_until(lambda: fake_telegram.messages_to(OLGA) and fake_telegram.messages_to(GROUP))
        wait_until(lambda: updates.inbox_get().waiting() == 0)
        assert replies_to(fake_telegram, GROUP) == [f"This chat's id is {GROUP}."]
        assert ReceivedUpdate.objects.count() == 2


@pytest.mark.django_db
class TestEachKind:
    def test_a_group_command_addressed_to_the_bot_is_answered_in_the_group(self, fake_telegram):
        updates.update_handle(fixture_update("message_group_chatid"))

        assert replies_to(fake_telegram, GROUP) == [f"This chat's id is {GROUP}."]

    def test_an_update_handled_before_is_not_handled_again(self, fake_telegram):
        assert updates.update_handle(fixture_update("message_group_chatid")) is True
        assert updates.update_handle(fixture_update("message_group_chatid")) is False

        assert len(fake_telegram.messages_to(GROUP)) == 1

    def test_private_text_that_is_no_command_gets_a_hint(self, fake_telegram):
        update = fixture_update("message_start")
        update["message"]["text"] = "hello there"
        update["message"]["from"]["language_code"] = "en"

        updates.update_handle(update)

        assert replies_to(fake_telegram, OLGA) == ["I understand commands only. Send /help to see them."]

    def test_a_sticker_is_no_command_and_gets_no_answer(self, fake_telegram):
        updates.update_handle(fixture_update("message_sticker"))

        assert fake_telegram.messages == []
        assert ReceivedUpdate.objects.get().kind == "message"

    def test_a_button_press_is_answered_and_its_message_edited(self, fake_telegram):
        updates.update_handle(fixture_update("message_start", update_id=1))
        fake_telegram.push_update(fixture_update("callback_query"))  # the fake knows the press now
        forget = fixture_update("message_start", update_id=2)
        forget["message"]["text"] = "/forget_me"
        updates.update_handle(forget)
        question = fake_telegram.messages_to(OLGA)[-1]
        press = fixture_update("callback_query")
        press["callback_query"]["message"]["message_id"] = question["message_id"]

        updates.update_handle(press)

        assert [answer["callback_query_id"] for answer in fake_telegram.callback_answers] == ["4382bfdwdsb323b2d9"]
        edited = fake_telegram.messages_to(OLGA)[-1]
        assert edited["edited"] is True
        assert edited["message_id"] == question["message_id"]
        assert BotUser.objects.filter(chat_id=str(OLGA)).exists()  # "fm:no": nothing removed

    def test_being_blocked_deactivates_the_bot_user(self, fake_telegram):
        updates.update_handle(fixture_update("message_start", update_id=1))

        updates.update_handle(fixture_update("my_chat_member_kicked"))

        bot_user = BotUser.objects.get(chat_id=str(OLGA))
        assert bot_user.is_active is False
        assert "kicked" in bot_user.last_error

    def test_a_group_upgraded_to_a_supergroup_moves_its_bot_user(self, fake_telegram):
        updates.update_handle(fixture_update("message_group_chatid"))

        updates.update_handle(fixture_update("message_group_migrated"))

        assert BotUser.objects.get().chat_id == "-1001234567890"

    def test_a_reply_telegram_refuses_is_recorded_on_the_update(self, fake_telegram):
        fake_telegram.chat_behaviour(GROUP, "kicked")

        updates.update_handle(fixture_update("message_group_chatid"))

        assert ReceivedUpdate.objects.get().error == "reply not sent: Forbidden: bot was kicked from the group chat"

    def test_a_reply_telegram_rate_limits_slows_every_sender_of_that_chat(self, fake_telegram):
        fake_telegram.force_429(retry_after=5, chat_id=GROUP)

        updates.update_handle(fixture_update("message_group_chatid"))

        assert ReceivedUpdate.objects.get().error == "reply not sent: Too Many Requests: retry after 5"
        assert 4 < ratelimit.limiter_get().slot_reserve(GROUP, is_group=True) <= 5

    def test_replies_take_slots_of_the_shared_limiter(self, fake_telegram):
        held_from = time.time()
        ratelimit.limiter_get().cooldown_set(GROUP, seconds=1)  # as after a 429 another worker met

        updates.update_handle(fixture_update("message_group_chatid"))

        # The reply waited for the cooldown to pass instead of meeting Telegram's 429.
        (reply,) = fake_telegram.messages_to(GROUP)
        assert reply["t"] - held_from >= 0.9

    @pytest.mark.parametrize(
        "update",
        [
            {"update_id": 5, "message": "text"},
            {"update_id": 6, "message": {"text": "/start"}},
            {"update_id": 7, "callback_query": {"data": "fm:yes"}},
            {"update_id": 8, "my_chat_member": {"chat": {"id": "x"}}},
        ],
    )
    def test_a_malformed_update_is_recorded_as_such_and_answered_nothing(self, fake_telegram, update):
        assert updates.update_handle(update) is True

        assert ReceivedUpdate.objects.get().error.startswith("malformed update")
        assert fake_telegram.messages == []

    def test_an_update_of_another_kind_is_recorded_and_ignored(self, fake_telegram):
        updates.update_handle({"update_id": 9, "edited_message": {"text": "/start"}})

        assert ReceivedUpdate.objects.get().kind == "edited_message"
        assert fake_telegram.messages == []
