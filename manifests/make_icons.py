"""Draw the Teams app icons: color.png (192×192) and outline.png (32×32).

The "DX" glyph is built from plain shapes rather than a font, so the icons come out the
same on every machine. Run it after changing the design and commit both PNGs:

    .venv/bin/python manifests/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

# A calm, municipal blue; white on it has a contrast ratio above 5:1.
BACKGROUND = (37, 99, 168)
WHITE = (255, 255, 255)
# Shapes are drawn this many times larger and scaled down, for smooth edges.
SUPERSAMPLE = 8

Box = tuple[float, float, float, float]


def _draw_d(draw: ImageDraw.ImageDraw, box: Box, stroke: float) -> None:
    """A bold 'D': a filled outer shape with the inner counter cut out."""
    x0, y0, x1, y1 = box
    # The right side is half an ellipse; the left part is a straight-edged block.
    rx = (x1 - x0) * 0.55
    cx = x1 - rx
    draw.rectangle((x0, y0, cx, y1), fill=255)
    draw.pieslice((cx - rx, y0, x1, y1), start=-90, end=90, fill=255)
    draw.rectangle((x0 + stroke, y0 + stroke, cx, y1 - stroke), fill=0)
    draw.pieslice((cx - rx + stroke, y0 + stroke, x1 - stroke, y1 - stroke), start=-90, end=90, fill=0)


def _draw_x(draw: ImageDraw.ImageDraw, box: Box, stroke: float) -> None:
    """A bold 'X': two slanted bars with flat ends, like a sans-serif font."""
    x0, y0, x1, y1 = box
    dx, dy = x1 - x0, y1 - y0
    # Horizontal width of a bar whose perpendicular thickness is `stroke`.
    across = stroke * ((dx * dx + dy * dy) ** 0.5) / dy
    draw.polygon([(x0, y0), (x0 + across, y0), (x1, y1), (x1 - across, y1)], fill=255)
    draw.polygon([(x1 - across, y0), (x1, y0), (x0 + across, y1), (x0, y1)], fill=255)


def glyph_mask(size: int, d_box: Box, x_box: Box, stroke: float) -> Image.Image:
    """An 8-bit mask of the 'DX' glyph at `size`×`size`; boxes are in final pixels."""
    big = size * SUPERSAMPLE

    def scale(box: Box) -> Box:
        return (box[0] * SUPERSAMPLE, box[1] * SUPERSAMPLE, box[2] * SUPERSAMPLE, box[3] * SUPERSAMPLE)

    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    _draw_d(draw, scale(d_box), stroke * SUPERSAMPLE)
    _draw_x(draw, scale(x_box), stroke * SUPERSAMPLE)
    return mask.resize((size, size), Image.Resampling.BOX)


def color_icon() -> Image.Image:
    """192×192, full-bleed blue (Teams rounds the corners itself) with a white 'DX'."""
    mask = glyph_mask(192, d_box=(38, 58, 94, 134), x_box=(100, 58, 156, 134), stroke=15)
    image = Image.new("RGBA", (192, 192), (*BACKGROUND, 255))
    image.paste(Image.new("RGBA", (192, 192), (*WHITE, 255)), (0, 0), mask)
    return image


def outline_icon() -> Image.Image:
    """32×32, white 'DX' on a fully transparent background (white in every pixel, alpha only)."""
    mask = glyph_mask(32, d_box=(2, 8, 15, 24), x_box=(17, 8, 30, 24), stroke=3)
    image = Image.new("RGBA", (32, 32), (*WHITE, 0))
    image.putalpha(mask)
    return image


def main() -> None:
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)
    print(f"wrote {HERE / 'color.png'} and {HERE / 'outline.png'}")


if __name__ == "__main__":
    main()
