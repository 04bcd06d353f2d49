import pytest

from devices.topics import base_topic, device_topics, topic_level


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("Acme Labs", "acme-labs"),
        ("Москва", "moskva"),
        ("São Paulo", "sao-paulo"),
        ("a/b", "a-b"),
        ("temp+#", "temp"),
        ("$SYS", "sys"),
        ("bad\x00name", "bad-name"),
    ],
)
def test_levels_are_mqtt_safe_ascii_slugs(raw, level):
    assert topic_level(raw) == level


def test_a_level_with_nothing_transliterable_is_still_stable_and_safe():
    level = topic_level("?!?")
    assert level == topic_level("?!?")
    assert level.isascii() and "/" not in level and level.startswith("x")


def test_topics_follow_owner_city_type_device():
    base = base_topic(owner="acme", city="New York", measurement_type="temperature", device_id="abcdef0123456789")
    assert base == "acme/new-york/temperature/abcdef0123456789"
    assert device_topics(base) == {
        "telemetry": base,
        "config": f"{base}/config",
        "status": f"{base}/status",
    }
