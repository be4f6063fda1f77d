"""Starting the engine process: which command, which environment, which platform flags.

From source the engine is `sys.executable -m engine`; in a frozen build the same executable is started
with the `engine` subcommand (the frozen entry point dispatches on it before importing anything heavy).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.protocol import MAX_LINE_BYTES

STREAM_LIMIT = 2 * MAX_LINE_BYTES + 1024  # the StreamReader's line limit: longer lines are refused, not read whole


def engine_command() -> list[str]:
    """The command line that starts the engine worker for this installation."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "engine"]
    return [sys.executable, "-m", "engine"]


def engine_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: UTF-8 stdio, our pid for its watchdog, from source the repository on the path."""
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUNBUFFERED"] = "1"
    env["HOURGLASS_PARENT_PID"] = str(os.getpid())  # the engine's watchdog exits when this process is gone
    if not getattr(sys, "frozen", False):
        root = str(Path(__file__).resolve().parents[2])
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in paths:
            env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    if extra:
        env.update(extra)
    return env


async def spawn(command: Sequence[str], env: Mapping[str, str]) -> asyncio.subprocess.Process:
    """Start the engine with piped stdio; on Windows without a console window."""
    kwargs: dict[str, object] = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    return await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(env), limit=STREAM_LIMIT, **kwargs,
    )
