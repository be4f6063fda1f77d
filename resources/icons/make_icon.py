"""Draw the Hourglass app icon (original artwork) as SVG and PNG."""
from pathlib import Path

from PIL import Image, ImageDraw

out = Path(__file__).resolve().parent
svg = """<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#2b3a55"/><stop offset="1" stop-color="#141c2b"/>
    </linearGradient>
    <linearGradient id="sand" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#ffd27a"/><stop offset="1" stop-color="#f29e38"/>
    </linearGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="52" fill="url(#bg)"/>
  <rect x="60" y="40" width="136" height="18" rx="9" fill="#d9dee8"/>
  <rect x="60" y="198" width="136" height="18" rx="9" fill="#d9dee8"/>
  <path d="M76 58 H180 C180 102 140 112 136 128 C140 144 180 154 180 198 H76 C76 154 116 144 120 128 C116 112 76 102 76 58 Z"
        fill="#ffffff" fill-opacity="0.14" stroke="#d9dee8" stroke-width="6" stroke-linejoin="round"/>
  <path d="M96 84 H160 C154 104 134 112 128 124 C122 112 102 104 96 84 Z" fill="url(#sand)"/>
  <path d="M125 124 H131 V176 H125 Z" fill="#ffc163"/>
  <path d="M88 192 C100 170 156 170 168 192 Z" fill="url(#sand)"/>
</svg>
"""
(out / "hourglass.svg").write_text(svg)

def draw(size):
    s = size / 256
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    # background with a vertical gradient
    bg = Image.new("RGBA", (size, size))
    for y in range(size):
        t = y / max(1, size - 1)
        c = tuple(round(a + (b - a) * t) for a, b in zip((0x2b, 0x3a, 0x55), (0x14, 0x1c, 0x2b))) + (255,)
        ImageDraw.Draw(bg).line([(0, y), (size, y)], fill=c)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([8 * s, 8 * s, 248 * s, 248 * s], radius=52 * s, fill=255)
    img.paste(bg, (0, 0), mask)
    frame = (0xd9, 0xde, 0xe8, 255)
    d.rounded_rectangle([60 * s, 40 * s, 196 * s, 58 * s], radius=9 * s, fill=frame)
    d.rounded_rectangle([60 * s, 198 * s, 196 * s, 216 * s], radius=9 * s, fill=frame)
    glass = [(76, 58), (180, 58), (170, 95), (136, 128), (170, 161), (180, 198), (76, 198), (86, 161), (120, 128), (86, 95)]
    pts = [(x * s, y * s) for x, y in glass]
    overlay = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(overlay).polygon(pts, fill=(255, 255, 255, 36))
    img.alpha_composite(overlay)
    d.line(pts + [pts[0]], fill=frame, width=max(1, round(6 * s)), joint="curve")
    sand = (0xf7, 0xb3, 0x4f, 255)
    d.polygon([(96 * s, 84 * s), (160 * s, 84 * s), (128 * s, 124 * s)], fill=sand)
    d.rectangle([125 * s, 124 * s, 131 * s, 176 * s], fill=(0xff, 0xc1, 0x63, 255))
    d.pieslice([88 * s, 170 * s, 168 * s, 214 * s], 180, 360, fill=sand)
    return img

big = draw(512)
big.resize((256, 256), Image.Resampling.LANCZOS).save(out / "hourglass.png")
for n in (16, 32, 48, 128):
    big.resize((n, n), Image.Resampling.LANCZOS).save(out / f"hourglass-{n}.png")
