"""torch.distributed set-up from torchrun's environment (NCCL on CUDA, gloo on CPU) and the few collectives
the loop needs. A plain ``python`` launch is world size 1 and makes no process group."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from clipart.models.device import resolve_device


@dataclass
class Dist:
    """This process's place in the launch."""

    rank: int
    world: int
    local_rank: int
    device: torch.device
    owns_group: bool

    @classmethod
    def from_env(cls, device: str = "auto") -> Dist:
        """Join torchrun's process group when ``WORLD_SIZE`` > 1; pick the device (``cuda:LOCAL_RANK``)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        dev = resolve_device(device)
        if dev.type == "cuda":
            dev = torch.device("cuda", local_rank if world > 1 else (dev.index or 0))
            torch.cuda.set_device(dev)
        owns = False
        if world > 1 and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
            owns = True
        return cls(rank, world, local_rank, dev, owns)

    @property
    def main(self) -> bool:
        """Whether this is rank 0 (the one that writes files)."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.world > 1:
            dist.barrier()

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order."""
        if self.world == 1:
            return [obj]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        """Leave the process group if this object created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
