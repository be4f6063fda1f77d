"""Option values the commands share: output formats, percentages, JPEG quality, devices, presets."""

from __future__ import annotations

import argparse
import sys

from engine.cli.report import EXIT_USAGE

FORMATS = ("same", "jpeg", "png", "tiff", "tiff16", "webp", "avif")


def output_format(choice: str) -> tuple[str | None, int | None]:
    """(format, bit depth) of a --format choice: None for "same as the photo" and for the photo's own depth."""
    if choice == "tiff16":
        return "TIFF", 16
    return (None if choice == "same" else choice.upper()), None


def add_preset_option(p) -> None:
    p.add_argument("--preset", metavar="NAME",
                   help="the values of a preset saved in the app's Settings (its format, folder, suffix, colour, "
                        "location and record; for restore also its quality and large-photo path); the options "
                        "given beside it override them. Read by the hourglass command (not python -m engine)")


def preset_not_expanded() -> int:
    print("hourglass: --preset is read by the hourglass command, which knows the app's presets; this is the "
          "engine's own command line: give the preset's options instead", file=sys.stderr)
    return EXIT_USAGE


def percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100")
    return value


def jpeg_quality(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 100")
    return value


def device_arg(text: str) -> str:
    from engine.protocol import is_gpu_id

    value = text.lower()
    if value in ("auto", "cpu", "cuda", "gpu") or is_gpu_id(value):
        return value
    raise argparse.ArgumentTypeError(f"'{text}' is not a device: choose auto, cpu, cuda or cuda:N")
