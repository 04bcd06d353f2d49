"""MAC addresses and the device id derived from them."""

import hashlib
import re

_SEPARATED = re.compile(r"^[0-9a-f]{1,2}([:\-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$")
_DOTTED = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")
_BARE = re.compile(r"^[0-9a-f]{12}$")


class InvalidMac(ValueError):
    pass


def mac_canonical(raw: str) -> str:
    """Six zero-padded upper-case hex pairs joined by colons, e.g. ``5E:CF:7F:0A:0B:0C``.

    Accepts colons or dashes (with pairs unpadded, as the original Arduino firmware printed
    them: ``5e:cf:7f:a:b:c``), Cisco dots (``5ecf.7f0a.0b0c``) and bare hex, any case.
    """
    if not isinstance(raw, str):
        raise InvalidMac("MAC address must be a string.")
    value = raw.strip().lower()
    if _SEPARATED.match(value):
        pairs = re.split(r"[:\-]", value)
    elif _DOTTED.match(value) or _BARE.match(value):
        digits = value.replace(".", "")
        pairs = [digits[i : i + 2] for i in range(0, 12, 2)]
    else:
        raise InvalidMac(f"'{raw[:40]}' is not a MAC address (expected six hex pairs, e.g. 5E:CF:7F:0A:0B:0C).")
    return ":".join(pair.zfill(2).upper() for pair in pairs)


def device_id_for_mac(raw: str) -> str:
    """The device id: first 16 hex characters of SHA-256 of the canonical MAC string."""
    return hashlib.sha256(mac_canonical(raw).encode()).hexdigest()[:16]
