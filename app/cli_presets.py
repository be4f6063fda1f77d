"""`hourglass restore --preset NAME` and `hourglass copy --preset NAME`: a preset saved in the app's Settings
(`app.presets`), as the engine's command-line options. The launcher expands it before the engine's command
line sees the arguments, so the presets stay the app's (one file, one reader) and the engine knows only its
options. The preset's options go first: an option given beside it overrides its value."""

from __future__ import annotations

import sys
from typing import Any

from app import presets

# what each command takes of a preset (copy makes no restoration: no quality, path or RAW+JPEG choice)
RESTORE_ONLY = ("quality", "fullres", "restore_clean", "raw_jpeg")


def preset_options(command: str, values: dict[str, Any]) -> list[str]:
    """The engine's options that say what the preset `values` say."""
    out: list[str] = []
    if command == "restore":
        out += ["--quality", values["quality"], "--fullres", values["fullres"], "--pairs", values["raw_jpeg"]]
        if values["restore_clean"]:
            out.append("--restore-clean")
    if values["output_dir"]:
        out += ["-o", values["output_dir"]]
    if values["name_suffix"]:
        out += ["--suffix", values["name_suffix"]]
    out += ["--format", values["format"], "--jpeg-quality", str(values["jpeg_quality"])]
    out += [flag for flag, on in (("--srgb", values["srgb"]), ("--no-location", values["remove_location"]),
                                  ("--no-record", not values["record"])) if on]
    return out


def expand(argv: list[str]) -> list[str]:
    """`argv` with `--preset NAME` (or `--preset=NAME`) replaced by the preset's options, placed right after
    the command; `argv` itself when it names none. Exits with a message naming the saved presets when NAME
    is not one of them."""
    if not argv or argv[0] not in ("restore", "copy"):
        return argv
    rest, name = [], None
    args = iter(argv[1:])
    for arg in args:
        if arg == "--":
            rest += [arg, *args]
            break
        if arg == "--preset":
            name = next(args, None)
            if name is None:
                sys.exit("hourglass: --preset needs the name of a preset saved in the app's Settings")
        elif arg.startswith("--preset="):
            name = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if name is None:
        return argv
    saved = presets.load()
    chosen = next((saved[n] for n in saved if n == presets.clean_name(name)), None) or next(
        (saved[n] for n in saved if n.casefold() == presets.clean_name(name).casefold()), None)
    if chosen is None:
        known = ", ".join(f"'{n}'" for n in sorted(saved, key=str.casefold)) or "none yet (Settings → Presets)"
        sys.exit(f"hourglass: no preset named '{name}'; the saved presets: {known}")
    return [argv[0], *preset_options(argv[0], chosen), *rest]
