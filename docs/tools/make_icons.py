"""Draw ParkPay's app icons (static/icons/) and favicon: a white yuan sign on
the accent green, full bleed so that Android may mask it to any shape.

Run once by hand (`.venv/bin/python docs/tools/make_icons.py`); the PNGs are
committed, so Pillow is not needed at run time.
"""

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "static" / "icons"
GREEN = (11, 110, 79)
SIZES = (32, 180, 192, 512)


def icon(size: int) -> Image.Image:
    from documents.fonts import font_path  # the font of the PDFs and charts

    scale = 4  # drawn large, then reduced: smooth edges
    big = size * scale
    image = Image.new("RGB", (big, big), GREEN)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path()), size=int(big * 0.7))
    # The glyph stays inside the central 80 %, the maskable safe zone.
    draw.text((big / 2, big / 2), "¥", font=font, fill="white", anchor="mm")
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        icon(size).save(OUT / f"icon-{size}.png", optimize=True)
    icon(48).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
