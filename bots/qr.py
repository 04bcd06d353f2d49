"""QR codes of invitation links, as SVG markup built by `qrcode`'s pure-Python SVG factory (no
Pillow): the admin puts it inline in the page, the API returns it as text.

    qr_svg("https://t.me/switchboard_bot?start=…")  # '<svg … viewBox="0 0 41 41">…</svg>'
"""

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathFillImage

DEFAULT_SIZE_PX = 240


class _SizedSvgImage(SvgPathFillImage):
    """One path on a white square (readable on the admin's dark theme too), sized in pixels
    instead of the factory's millimetres; the viewBox keeps it sharp at any size."""

    def _svg(self, size_px: int = DEFAULT_SIZE_PX, **kwargs):  # make_image's keywords reach here
        svg = super()._svg(**kwargs)
        svg.set("width", str(size_px))
        svg.set("height", str(size_px))
        return svg


def qr_svg(text: str, *, size_px: int = DEFAULT_SIZE_PX) -> str:
    """The QR code of `text` as one `<svg>` element (no XML declaration), `size_px` wide."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, image_factory=_SizedSvgImage)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(size_px=size_px).to_string(encoding="unicode")
