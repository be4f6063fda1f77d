"""Write a multi-size Windows .ico from resources/icons (Pillow): `python make_ico.py ICON_DIR OUT.ico`."""

import sys
from pathlib import Path

from PIL import Image

src, out = Path(sys.argv[1]), Path(sys.argv[2])
base = Image.open(src / "hourglass.png").convert("RGBA")  # 256 px; Pillow scales it for the other sizes
out.parent.mkdir(parents=True, exist_ok=True)
base.save(out, format="ICO", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
print(out)
