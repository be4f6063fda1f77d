"""The composition root of the GUI: parse arguments, build settings, queue, engine client, runner and
window, and run them on one qasync event loop."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("app")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hourglass gui", description="Open the Hourglass window.")
    parser.add_argument("paths", nargs="*", help="photos or folders to add to the queue")
    parser.add_argument("--data-dir", help="keep the queue, settings, log and imported models here (default: the user data folder)")
    parser.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--engine-cmd", help="start the engine with this command (development)")
    parser.add_argument("--smoke", action="store_true",
                        help="self-test: open the window, wait for the engine handshake, print timings, exit")
    parser.add_argument("--smoke-report", metavar="FILE", help="with --smoke: also write the JSON report here")
    return parser.parse_args(argv)


def display_problem(env=None, platform: str | None = None, x11_check=None, wayland_check=None) -> str | None:
    """Why no window can open on Linux, else None: no X11/Wayland display, or none that answers (see
    `x11_problem`, `wayland_problem`; Qt tries Wayland first, then X11). Qt would abort with a core dump and
    advise reinstalling, which is wrong advice over SSH, in a container or for a missing system library.
    A Qt platform the user chose (QT_QPA_PLATFORM) is left to Qt."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    checks = [(env.get("WAYLAND_DISPLAY"), wayland_check or wayland_problem),
              (env.get("DISPLAY"), x11_check or x11_problem)]
    problems = []
    for display, check in checks:
        if display:
            problem = check(display)
            if problem is None:
                return None
            problems.append(problem)
    if problems:
        return " ".join(p if i == 0 else p[:1].upper() + p[1:] for i, p in enumerate(problems + [CLI_HINT]))
    return "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). " + CLI_HINT


CLI_HINT = ("From a terminal, restore with `hourglass restore PHOTO_OR_FOLDER...` (`hourglass --help` "
            "lists the commands).")


def wayland_problem(display: str, load=None) -> str | None:
    """Whether a Wayland compositor answers at `display`, asked the way Qt asks (libwayland-client)."""
    import ctypes

    try:
        wayland = (load or ctypes.CDLL)("libwayland-client.so.0")
    except OSError:
        return "the Wayland library libwayland-client.so.0 is missing."
    wayland.wl_display_connect.restype = ctypes.c_void_p
    wayland.wl_display_connect.argtypes = [ctypes.c_char_p]
    wayland.wl_display_disconnect.argtypes = [ctypes.c_void_p]
    conn = wayland.wl_display_connect(os.fsencode(display))
    if not conn:
        return f"no Wayland compositor answers at WAYLAND_DISPLAY={display}."
    wayland.wl_display_disconnect(conn)
    return None


def _load_here_or_bundled(load, name: str):
    """Load a library as the system finds it, else from an installed app's folder (where the installer put
    the copy Qt's plugin will use)."""
    try:
        return load(name)
    except OSError:
        bundle = getattr(sys, "_MEIPASS", None)
        if not bundle:
            raise
        return load(os.path.join(bundle, name))


# The X11 libraries Qt's xcb platform plugin links (libqxcb.so and libQt6XcbQpa.so), each with the package
# that holds it on Debian/Ubuntu and on Fedora. When any is missing, Qt 6.5+ names only libxcb-cursor0.
XCB_LIBRARIES = (  # libraries before those that link them, so that an installed app's own copies load
    ("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    ("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    ("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    ("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    ("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    ("libX11.so.6", "libx11-6", "libX11"),
    ("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
)


def missing_xcb_packages(load) -> tuple[list[str], list[str]]:
    """(Debian packages, Fedora packages) holding the libraries of `XCB_LIBRARIES` that cannot be loaded."""
    debian, fedora = [], []
    for name, deb, rpm in XCB_LIBRARIES:
        try:
            _load_here_or_bundled(load, name)
        except OSError:
            debian.append(deb)
            if rpm not in fedora:
                fedora.append(rpm)
    return debian, fedora


def x11_problem(display: str, load=None) -> str | None:
    """What keeps Qt's xcb plugin from opening a window on `display`, asked the way Qt asks (libxcb), so
    the user reads the cause: a system library the plugin needs and the desktop lacks (libxcb-cursor0, which
    Qt 6.5+ needs; libxcb-icccm4 and others on minimal installs and WSL), or a DISPLAY left over from a
    closed SSH session, with no server behind it."""
    import ctypes

    load = load or ctypes.CDLL
    try:
        xcb = load("libxcb.so.1")
    except OSError:
        return "the X11 library libxcb.so.1 is missing, so no window can open."
    debian, fedora = missing_xcb_packages(load)
    if debian:
        them = "it" if len(debian) == 1 else "them"
        return (f"the window needs the system librar{'y' if len(debian) == 1 else 'ies'} {', '.join(debian)} "
                f"(Qt's X11 support uses {them}). Install {them} (Debian, Ubuntu: `sudo apt install "
                f"{' '.join(debian)}`; Fedora: `sudo dnf install {' '.join(fedora)}`) and start Hourglass again.")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(os.fsencode(display), None)
    failed = xcb.xcb_connection_has_error(conn)
    xcb.xcb_disconnect(conn)
    if failed:
        return (f"no X11 display answers at DISPLAY={display} (a closed SSH session or a display that was "
                "stopped leaves it set), so no window can open.")
    return None


def build(args: argparse.Namespace):
    """Create the object graph; returns (window, runner). A QApplication must exist."""
    from PySide6.QtCore import QTimer

    from app.client import ClientConfig, EngineClient
    from app.keep_awake import KeepAwake, default_backends
    from app.keep_awake import connect as connect_keep_awake
    from app.queue_model import BatchQueue, default_queue_path
    from app.runner import BatchRunner
    from app.settings import Settings
    from app.widgets.main_window import MainWindow

    settings = Settings.load()
    queue = BatchQueue(default_queue_path(), schedule=lambda delay, fn: QTimer.singleShot(round(delay * 1000), fn))
    queue.load()
    command = tuple(args.engine_cmd.split()) if args.engine_cmd else None
    engine = EngineClient(ClientConfig(command=command))
    runner = BatchRunner(queue, settings, engine)
    window = MainWindow(runner)
    window.keep_awake = KeepAwake(default_backends)  # no sleep for lack of input while a batch runs
    connect_keep_awake(runner, window.keep_awake)
    from app import desktop_status
    from app.paths import icon_path

    window.desktop_status = desktop_status.connect(  # (a click on the notification brings the window forward)
        window, desktop_status.default_bus(), icon_path(), on_click=lambda: bring_forward(window, runner, []))
    return window, runner


def report_errors(window, previous_crash: Path | None):
    """Show in `window` the unexpected errors from now on, watch for a window that stops responding
    (`app.crash_report`), and say so if the last run crashed or hung; returns the function that stops the
    former."""
    from PySide6.QtCore import QTimer

    from app.crash_report import CRASHED, ErrorReporter, HangWatch, catch_errors

    HangWatch(window)
    reporter = ErrorReporter(window)
    reporter.error.connect(lambda summary, details: window.show_error(
        "Something went wrong",
        f"Hourglass met an unexpected error (a bug): {summary}\n\nYour photos and the results already saved "
        "are not affected. The details are in the log; please attach it if you report this.", details))
    if previous_crash is not None:
        try:
            report = previous_crash.read_text("utf-8", errors="replace")
        except OSError:
            report = ""
        stopped = ("stopped with a crash (a bug, in Hourglass or in a library it uses)" if CRASHED in report
                   else "stopped responding and was closed (a bug; what each of its threads was doing is in the "
                   "report)")
        QTimer.singleShot(0, lambda: window.show_error(
            "Hourglass closed unexpectedly",
            f"The last time, Hourglass {stopped}. The queue is saved as it changes (at most a second late), "
            "so it is back as it was. The report is kept in the log folder as "
            f"{previous_crash.name}; please attach it if you report this.", report))
    return catch_errors(reporter)


def bring_forward(window, runner, paths: list[str]) -> None:
    """Another start was given `paths` (maybe none): queue them and show the window in front."""
    if paths:
        window.open_paths(paths)
    if window.isMinimized():
        window.showNormal()
    window.raise_()
    window.activateWindow()


def take_opened_files(app, window, runner) -> None:
    """Files macOS opens with the app (Open With, the Dock icon, Lightroom's Edit In; `app.file_open`) are
    queued and shown as a second start's are, those opened while the window was being made included."""
    from app.file_open import OpenedFiles

    opened = getattr(app, "opened", None)
    if isinstance(opened, OpenedFiles):
        opened.files.connect(lambda paths: bring_forward(window, runner, paths))
        opened.deliver()


def run_gui(argv: list[str]) -> int:
    args = parse_args(argv)
    problem = display_problem()
    if problem:
        print(f"hourglass: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s %(name)s: %(message)s")
    if args.data_dir:
        os.environ["HOURGLASS_DATA_DIR"] = str(Path(args.data_dir).resolve())
    from app.logs import install_file_log

    log_file = install_file_log(getattr(logging, args.log_level))
    log.info("Hourglass GUI starting (log file %s)", log_file)

    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app import qt_compat, theme
    from app.paths import icon_path
    from app.quit_signals import close_on_signals

    qt_compat.install()
    from app.file_open import HourglassApplication

    app = QApplication.instance() or HourglassApplication(sys.argv[:1])
    app.setApplicationName("Hourglass")
    app.setOrganizationName("Hourglass")
    app.setDesktopFileName("hourglass")  # Wayland's app id: the dock shows the installed entry's icon and name
    app.setQuitOnLastWindowClosed(False)  # we quit once the engine is shut down
    from app.main_thread_gc import MainThreadGC

    MainThreadGC(app)  # cycles of Qt objects freed on the GUI thread, never on a worker's (see the module)
    if icon_path().exists():
        app.setWindowIcon(QIcon(str(icon_path())))
    from app.paths import data_dir
    from app.single_instance import InstanceServer, forward_to_running, server_name  # (the self-test checks
    # that QtNetwork, which it needs, is in the installed package)

    instance = None
    if not args.smoke:  # the self-test always opens its own window
        name = server_name(data_dir())
        if forward_to_running(args.paths, name):
            print("Hourglass is already open: " + ("the photos were added to its queue." if args.paths else
                                                    "its window was brought to the front."), file=sys.stderr)
            return 0
        instance = InstanceServer(name)
        instance.listen()
    from app.crash_report import ended_cleanly, take_previous_crash, watch_for_crashes
    from app.logs import log_dir
    from engine import __version__

    previous_crash = None
    if not args.smoke:  # (the self-test may run beside the open app; a second start has already handed over)
        previous_crash = take_previous_crash(log_dir())
        watch_for_crashes(log_dir(), __version__)

    async def amain() -> int:
        window, runner = build(args)
        put_back_hooks = report_errors(window, previous_crash)
        put_back_signals = close_on_signals(window)
        theme.apply(runner.settings.theme, app)
        closed = asyncio.Event()
        window.close_confirmed.connect(closed.set)
        window.show()
        runner.start_engine()
        if args.paths:
            window.open_paths(args.paths)
        if instance is not None:
            instance.activated.connect(lambda paths: bring_forward(window, runner, paths))
        take_opened_files(app, window, runner)
        code = 0
        if args.smoke:
            from app.smoke import smoke_check

            code = await smoke_check(window, runner, args.smoke_report)
        else:
            await closed.wait()
        if instance is not None:
            instance.close()
        await window.images.close()
        await window.close_tasks()
        await runner.shutdown()
        window.keep_awake.close()  # (a release still on its way: waits up to 2 s for it)
        put_back_hooks()
        put_back_signals()
        ended_cleanly()
        return code

    try:
        return asyncio.run(amain(), loop_factory=qasync.QEventLoop) if sys.version_info >= (3, 12) \
            else qasync.run(amain())
    except KeyboardInterrupt:
        return 130
