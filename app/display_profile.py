"""The screen's colour profile, so photos are shown in their own colours on a wide-gamut or calibrated
monitor, as colour-managed viewers (Lightroom, darktable, GIMP) show them: painted as they are, the sRGB
numbers of a photo look oversaturated on a Display P3 or Adobe RGB panel, and a calibration is ignored.

Only where the system tells applications the screen's profile and leaves the conversion to them: X11
sessions, through the `_ICC_PROFILE` property of the root window (the "ICC Profiles in X" convention), which
colord with GNOME or KDE, and `dispwin -I`, set (`_ICC_PROFILE_1`, … for the other screens): the profile of
the screen the window is on, followed when it moves to another.

Not elsewhere, each for its reason:
- Wayland: no standard way yet for an application to learn the screen's profile; a compositor that manages
  colour (KDE Plasma 6 with a profile set) converts windows, X11 ones included, itself, and converting here
  as well would apply the profile twice. Photos show as their sRGB numbers otherwise.
- macOS: reports differ on whether Qt 6 tells macOS that its windows hold sRGB, for macOS to convert them
  (QTBUG-47660; projects on Qt 6 still tag their windows sRGB through AppKit to be sure). With no Mac here,
  nothing is done: converting here when macOS converts too would apply the profile twice, and an untried
  AppKit call can crash the app. If Qt does not tell it, photos show oversaturated on a Display P3 Mac.
- Windows: Windows 11's automatic colour management may convert an application's sRGB itself; not tried.
The app's own colours (theme, labels) are not converted, only photos.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger("app.display_profile")

MAX_PROFILE = 64 << 20  # larger than any display profile; a property this big is not one


def system_profile(platform_name: str, screen: int = 0) -> bytes | None:
    """The ICC profile of screen number `screen` (Qt's order, primary first, as the X convention numbers
    them), where this system leaves colour management to applications (see the module's docstring); None
    elsewhere, or when no profile is set. A screen without its own profile gets the first screen's, as
    colour-managed X11 applications fall back."""
    try:
        if platform_name == "xcb" and not os.environ.get("WAYLAND_DISPLAY") and os.environ.get("DISPLAY"):
            display = os.environ["DISPLAY"]
            return (x11_profile(display, screen) if screen else None) or x11_profile(display)
    except (OSError, AttributeError, ValueError) as exc:  # (a library without the function, a bad file...)
        log.info("display profile not read: %s", exc)
    return None


def x11_profile(display: str, screen: int = 0) -> bytes | None:
    """The `_ICC_PROFILE` (screen 0) or `_ICC_PROFILE_<n>` property of X display `display`'s root window."""
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    x = ctypes.CDLL(name)
    x.XOpenDisplay.restype, x.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XDefaultRootWindow.restype, x.XDefaultRootWindow.argtypes = ctypes.c_ulong, [ctypes.c_void_p]
    x.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long, ctypes.c_int, ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
    x.XFree.argtypes, x.XCloseDisplay.argtypes = [ctypes.c_void_p], [ctypes.c_void_p]
    d = x.XOpenDisplay(display.encode())
    if not d:
        return None
    try:
        atom = x.XInternAtom(d, b"_ICC_PROFILE" if screen == 0 else f"_ICC_PROFILE_{screen}".encode(), True)
        if not atom:  # (only if it exists: nothing ever set one)
            return None
        kind, size_format, count, left = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong()
        data = ctypes.POINTER(ctypes.c_ubyte)()
        status = x.XGetWindowProperty(d, x.XDefaultRootWindow(d), atom, 0, MAX_PROFILE // 4, False, 0,
                                      ctypes.byref(kind), ctypes.byref(size_format), ctypes.byref(count),
                                      ctypes.byref(left), ctypes.byref(data))
        if status != 0 or not data:
            return None
        try:
            return ctypes.string_at(data, count.value) if size_format.value == 8 and count.value else None
        finally:
            x.XFree(data)
    finally:
        x.XCloseDisplay(d)
