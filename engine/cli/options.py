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
                        "given beside it override them. Read by the hourglass command (not python -m engine.cli)")


def preset_not_expanded() -> int:
    print("hourglass: --preset is read by the hourglass command, which knows the app's presets; this is the "
          "engine's own command line: give the preset's options instead", file=sys.stderr)
    return EXIT_USAGE


def _number(text: str, kind: type, what: str, low: float, high: float):
    """`text` as a `kind` between `low` and `high`, or an argparse error that says what is wrong."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{text} is not between {low} and {high}")
    return value


def percent(text: str) -> float:
    return _number(text.rstrip("%"), float, "a number", 0, 100)


def jpeg_quality(text: str) -> int:
    return _number(text, int, "a whole number", 1, 100)


def device_arg(text: str) -> str:
    from engine.protocol import is_gpu_id

    value = text.lower()
    if value in ("auto", "cpu", "cuda", "gpu") or is_gpu_id(value):
        return value
    raise argparse.ArgumentTypeError(f"'{text}' is not a device: choose auto, cpu, cuda or cuda:N")
