import hashlib

import pytest

from devices.identity import InvalidMac, device_id_for_mac, mac_canonical

CANONICAL = "5E:CF:7F:0A:0B:0C"


@pytest.mark.parametrize(
    "notation",
    [
        "5E:CF:7F:0A:0B:0C",
        "5e:cf:7f:0a:0b:0c",
        "5e:cf:7f:a:b:c",  # the original Arduino firmware prints pairs unpadded
        "5E-CF-7F-0A-0B-0C",
        "5ecf.7f0a.0b0c",
        "5ECF7F0A0B0C",
        "  5e:cf:7f:0a:0b:0c\n",
    ],
)
def test_every_common_notation_is_one_canonical_mac(notation):
    assert mac_canonical(notation) == CANONICAL


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "zz:cf:7f:0a:0b:0c",
        "5e:cf:7f:0a:0b",
        "5e:cf:7f:0a:0b:0c:0d",
        "5e:cf-7f:0a:0b:0c",
        "5ecf7f0a0b0",
        "123:cf:7f:0a:0b:0c",
        "5e::7f:0a:0b:0c",
    ],
)
def test_malformed_macs_are_rejected(bad):
    with pytest.raises(InvalidMac):
        mac_canonical(bad)


def test_non_string_mac_is_rejected():
    with pytest.raises(InvalidMac):
        mac_canonical(12345)


def test_device_id_is_first_16_hex_of_sha256_of_canonical_mac():
    expected = hashlib.sha256(CANONICAL.encode()).hexdigest()[:16]
    assert device_id_for_mac("5e:cf:7f:a:b:c") == expected
    assert device_id_for_mac("5ECF7F0A0B0C") == expected
