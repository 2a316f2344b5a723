"""How many CPU threads a drawing uses: the cores that other work leaves free, shared by the drawings at once.

Why not torch's default (one thread per core): when another CPU-bound process runs, PyTorch's OpenMP threads
spin-wait for a core that is busy; beside a training run on 2 cores, a drawing with 2 threads took several times as
long as with 1 (BENCHMARKS.md, "A busy machine"). Using only the free cores avoids that. The count is chosen once,
when a drawing starts (the result of a drawing depends on its thread count, so it is recorded and can be fixed with
``threads=N``), and applied in whichever thread runs a step (the web app steps a drawing from worker threads).
"""

from __future__ import annotations

import os
import threading
import time

_LOCK = threading.Lock()
_ACTIVE = 0  # drawings running on the CPU in this process


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_ticks() -> tuple[float, float] | None:
    """(busy, total) CPU ticks of the whole machine since boot, or None where /proc/stat is not available."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [float(v) for v in handle.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cores_busy_elsewhere(sample_s: float = 0.1) -> float:
    """Cores kept busy by other processes over the next ``sample_s`` seconds (this process's own use left out)."""
    first, own = _cpu_ticks(), time.process_time()
    if first is None:
        return 0.0
    time.sleep(sample_s)
    second, own_s = _cpu_ticks(), time.process_time() - own
    if second is None or second[1] <= first[1]:
        return 0.0
    busy = (second[0] - first[0]) / (second[1] - first[1]) * (os.cpu_count() or 1)
    return max(0.0, busy - own_s / sample_s)


def share(free: float, drawings: int, limit: int) -> int:
    """Threads for one of ``drawings`` running at once when ``free`` cores are free, at most ``limit``."""
    return max(1, min(limit, int(round(free)) // max(1, drawings)))


class CpuShare:
    """While a drawing runs on the CPU: count it, pick its threads and apply them in the thread that steps it."""

    def __init__(self, requested: int, limit: int):
        self.requested, self.limit, self.threads = requested, limit, requested

    def __enter__(self) -> CpuShare:
        global _ACTIVE
        with _LOCK:
            _ACTIVE += 1
            drawings = _ACTIVE
        if not self.requested:
            free = cores() - cores_busy_elsewhere()
            self.threads = share(free, drawings, self.limit)
        return self

    def apply(self) -> None:
        """Use this drawing's thread count in the calling thread (cheap when it is already set)."""
        import torch

        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        with _LOCK:
            _ACTIVE -= 1
