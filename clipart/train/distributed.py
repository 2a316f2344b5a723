"""torch.distributed set-up from torchrun's environment (NCCL on CUDA, gloo on CPU) and the few collectives
the loop needs. A plain ``python`` launch is world size 1 and makes no process group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from clipart.errors import ConfigError
from clipart.models.device import launch_ranks, resolve_device


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
        """Join torchrun's process group when ``WORLD_SIZE`` > 1; pick the device (``auto`` and ``cuda`` are
        ``cuda:LOCAL_RANK``; with several processes an explicit ``cuda:N`` must be that one too)."""
        rank, world, local_rank = launch_ranks()
        dev = resolve_device(device)
        if dev.type == "cuda":
            if world > 1 and dev.index != local_rank:
                raise ConfigError(
                    f"--device {device} under torchrun: each process trains on its own GPU (cuda:LOCAL_RANK, "
                    f"here cuda:{local_rank}): give --device cuda or auto"
                )
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
