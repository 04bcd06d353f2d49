"""The QR code of an invitation link: SVG markup with no image library, whose dark modules are
the QR matrix of the text (so a phone reads the link), on a white square of the asked size."""

import re

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from bots.qr import qr_svg

LINK = "https://t.me/switchboard_test_bot?start=Z3x9c0aQ-bcd_efgh1234567890ABCDEF"


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """(row, column) of each filled square of the path (`M x,y H x+1 V y+1 H x z`)."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    return {(int(y), int(x)) for x, y in re.findall(r"M(\d+),(\d+)H", path)}


def test_the_dark_modules_are_the_qr_matrix_of_the_link():
    svg = qr_svg(LINK)

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(LINK)
    code.make(fit=True)
    matrix = code.get_matrix()  # with the border
    expected = {(row, col) for row, line in enumerate(matrix) for col, dark in enumerate(line) if dark}
    assert dark_modules(svg) == expected
    size = len(matrix)
    assert f'viewBox="0 0 {size} {size}"' in svg
    # The three finder patterns: 7x7 dark rings at three corners, inside the 4-module quiet zone.
    for top, left in ((4, 4), (4, size - 11), (size - 11, 4)):
        ring = {(top + i, left + j) for i in range(7) for j in range(7) if i in (0, 6) or j in (0, 6)}
        assert ring <= dark_modules(svg)


def test_it_is_one_svg_element_sized_in_pixels_on_white():
    svg = qr_svg(LINK, size_px=180)

    assert svg.startswith('<svg width="180" height="180" ') and svg.endswith("</svg>")
    assert "<?xml" not in svg
    assert '<rect fill="white"' in svg


def test_another_link_is_another_code():
    assert dark_modules(qr_svg(LINK)) != dark_modules(qr_svg(LINK.replace("Z3x9", "Y3x9")))
