"""Give a detector a black-and-white classifier: COLOUR's weights, with GRAY's riding along for photos that
have no colour (engine.detection.model.DetectorWeights.gray).

    python tools/detector_gray_route.py COLOUR.safetensors GRAY.safetensors OUT.safetensors

COLOUR is a detector trained on colour samples (`python -m engine.detection.train`), GRAY one trained with
black-and-white samples as well (`--gray-variants 1`). Colour photos keep COLOUR's answers exactly; a
black-and-white photo gets GRAY's, which does not take a missing colour for rain or haze.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.detection.model import load, with_gray


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("colour", type=Path)
    p.add_argument("gray", type=Path)
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    colour, gray = load(args.colour), load(args.gray)
    if colour.gray is not None:
        print(f"{args.colour.name} already has a black-and-white classifier; it is replaced", file=sys.stderr)
    combined = with_gray(colour, gray)
    combined.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB): colour from {args.colour.name}, "
          f"black-and-white from {args.gray.name} ({gray.info.get('recipe', 'recipe unknown')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
