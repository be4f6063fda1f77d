"""Give an X server's root window a screen colour profile, as colord (GNOME, KDE) and `dispwin -I` do on a
desktop with a calibrated or wide-gamut monitor: for trying the app's colour-managed view (app.display_profile)
under Xvfb, in its tests and in the package test.

    DISPLAY=:99 python tools/set_screen_profile.py PROFILE.icc [--screen N]

Screen 0's profile is the root window's `_ICC_PROFILE` property, screen N's `_ICC_PROFILE_N` (8-bit CARDINAL
data). Standard library only (ctypes and libX11), so any Python can run it. Start Xvfb with `-noreset`: a
server resets, losing its properties, when its last client leaves.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import sys
from pathlib import Path


def set_root_property(display: str, name: bytes, value: bytes) -> None:
    library = ctypes.util.find_library("X11")
    if library is None:
        raise OSError("libX11 is not installed")
    x = ctypes.CDLL(library)
    x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x.XInternAtom.restype, x.XInternAtom.argtypes = ctypes.c_ulong, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ctypes.c_ulong, [ctypes.c_void_p]
    x.XChangeProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int,
                                  ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    d = x.XOpenDisplay(display.encode())
    if not d:
        raise OSError(f"no X server answers at DISPLAY={display}")
    cardinal, bits, replace = 6, 8, 0
    x.XChangeProperty(d, x.XDefaultRootWindow(d), x.XInternAtom(d, name, False), cardinal, bits, replace, value,
                      len(value))
    x.XCloseDisplay(d)  # (flushes the request)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--screen", type=int, default=0)
    args = parser.parse_args(argv)
    name = b"_ICC_PROFILE" if args.screen == 0 else f"_ICC_PROFILE_{args.screen}".encode()
    set_root_property(os.environ["DISPLAY"], name, args.profile.read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
