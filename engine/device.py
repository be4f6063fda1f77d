"""Devices: which exist, which to use, how much memory they have free."""

from __future__ import annotations

import os

from engine.errors import DeviceUnavailableError


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_device(device: str | None) -> str:
    """'auto' → CUDA when available, else CPU. Asking for CUDA without one is an error, not a fallback."""
    device = (device or "auto").lower()
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "gpu":
        device = "cuda"
    if device.startswith("cuda"):
        if not cuda_available():
            raise DeviceUnavailableError("No CUDA GPU is available (or this build of PyTorch has no CUDA support); "
                                         "choose 'cpu' or 'auto'.")
        return device
    if device == "cpu":
        return "cpu"
    raise DeviceUnavailableError(f"Unknown device '{device}'; choose auto, cpu or cuda.")


def _cpu_free_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
        return info.get("MemAvailable", info.get("MemFree", 0))
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def free_memory(device: str) -> int:
    """Bytes free for work on `device` now."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    return _cpu_free_bytes()


def list_devices() -> list[dict]:
    """Name and memory of every device the engine can use."""
    import platform

    devices = [{"id": "cpu", "name": platform.processor() or platform.machine(), "kind": "cpu",
                "threads": os.cpu_count(), "memory_free": _cpu_free_bytes()}]
    if cuda_available():
        import torch

        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            free, total = torch.cuda.mem_get_info(i)
            devices.append({"id": f"cuda:{i}", "name": p.name, "kind": "cuda", "memory_total": int(total),
                            "memory_free": int(free)})
    return devices
