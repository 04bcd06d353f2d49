"""MQTT topics of a device: ``{owner}/{city}/{measurement_type}/{device_id}`` and sub-topics.

Every level is reduced to a lower-case ASCII slug, so no level can contain the separator
``/``, the wildcards ``+`` and ``#``, NUL, or start with ``$`` (reserved for broker topics).
"""

import hashlib
import re

from anyascii import anyascii

_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")


def slug_part(value: str) -> str:
    """What of `value` transliterates to a slug ('' when nothing does): `Москва` → `moskva`."""
    return _NOT_SLUG.sub("-", anyascii(value or "").lower()).strip("-_")[:64]


def topic_level(value: str) -> str:
    slug = slug_part(value)
    if slug:
        return slug
    # Nothing transliterable (emoji, punctuation): still unique and stable per input.
    return "x" + hashlib.sha256((value or "").encode()).hexdigest()[:8]


def base_topic(*, owner: str, city: str, measurement_type: str, device_id: str) -> str:
    return "/".join(topic_level(level) for level in (owner, city, measurement_type, device_id))


def device_topics(base: str) -> dict[str, str]:
    return {"telemetry": base, "config": f"{base}/config", "status": f"{base}/status"}
