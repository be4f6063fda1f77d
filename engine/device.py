"""Devices: which exist, which to use, how much memory they have free."""

from __future__ import annotations

import os

from engine.errors import DeviceUnavailableError
from engine.protocol import is_gpu_id


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
    if device == "cuda" or device.startswith("cuda:"):
        if not cuda_available():
            raise DeviceUnavailableError("No CUDA GPU is available (or this build of PyTorch has no CUDA support); "
                                         "choose 'cpu' or 'auto'.")
        if device != "cuda":
            _check_gpu_index(device)
        return device
    if device == "cpu":
        return "cpu"
    raise DeviceUnavailableError(f"Unknown device '{device}'; choose auto, cpu, cuda or cuda:N (one GPU of several).")


def empty_cuda_cache(device: str) -> None:
    """Give `device`'s cached blocks back (torch's empty_cache acts on the current GPU, which may be another)."""
    import torch

    with torch.cuda.device(torch.device(device)):
        torch.cuda.empty_cache()


def _check_gpu_index(device: str) -> None:
    """`cuda:N` names one of this computer's GPUs (a settings file may come from another computer)."""
    import torch

    count = torch.cuda.device_count()
    if not is_gpu_id(device) or int(device[5:]) >= count:
        names = ", ".join(f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(count))
        raise DeviceUnavailableError(f"There is no GPU '{device}' here; this computer has {count}: {names}.")


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


# Share of the free memory one restore may use: the rest stays for the system, the GUI and other programs.
CPU_BUDGET_FRACTION = 0.5
CUDA_BUDGET_FRACTION = 0.8
MIN_BUDGET = 256 << 20


def memory_budget(device: str) -> int:
    """Bytes one restore may use on `device`, derived from its free memory now.

    CPU: `CPU_BUDGET_FRACTION` of the available RAM (it must hold the full-resolution buffers and the
    network's working memory); CUDA: `CUDA_BUDGET_FRACTION` of `torch.cuda.mem_get_info`'s free memory (the
    network's working memory; the full-resolution buffers stay in RAM). `$HOURGLASS_MEMORY_BUDGET_MB` sets it.
    """
    override = os.environ.get("HOURGLASS_MEMORY_BUDGET_MB")
    if override:
        try:
            return max(MIN_BUDGET, int(float(override) * (1 << 20)))
        except ValueError:
            pass
    fraction = CUDA_BUDGET_FRACTION if device.startswith("cuda") else CPU_BUDGET_FRACTION
    return max(MIN_BUDGET, int(free_memory(device) * fraction))


_ALLOCATOR_TUNED = False


def tune_cpu_allocator() -> bool:
    """Keep freed memory in the process heap instead of returning it to the system at every free (glibc).

    Large tensors are otherwise mmap-ed and unmapped per operation, so every network layer pays the page
    faults of fresh memory again (measured: about a third of a float32 evaluation on a 2-core VM). Nothing
    about the arithmetic changes. `release_cpu_memory()` hands the cached memory back after a restore.
    Returns whether the setting took effect (False off glibc).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    libc = _glibc()
    if libc is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    _ALLOCATOR_TUNED = bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))
    return _ALLOCATOR_TUNED


def release_cpu_memory() -> None:
    """Return the heap's free memory to the system (after a restore with the tuned allocator)."""
    libc = _glibc() if _ALLOCATOR_TUNED else None
    if libc is not None:
        libc.malloc_trim(0)


def _glibc():
    import ctypes
    import platform

    if platform.system() != "Linux":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both exist only in glibc
        return libc
    except (OSError, AttributeError):
        return None


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
