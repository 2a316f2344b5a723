"""Pruning: drop the strokes a finished drawing does not need, as judged by its own objective.

Dropping by opacity alone thins out fills that many faint strokes build up (docs/benchmark-history.md, "Dropping
faint strokes"), so a stroke goes only where the guide's score holds: each visible stroke's removal is scored
alone (one batched render and one batched forward), the strokes whose removal costs least come first, and a binary
search over that order finds the most of them that can go together with the score still within ``tolerance`` (a
fraction of its absolute value) of the full drawing's. The drawing loop scores through the views its steps used
(:func:`view_score`): on the benchmark that spares more strokes than one clean view for the same tolerance
(BENCHMARKS.md, "Pruning").
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from clipart.augment import Augment
from clipart.objective import Objective, Views
from clipart.render import render_batch
from clipart.scene import Scene

# Scenes rendered and scored at once while each stroke's removal is tried (bounds the memory of a big drawing).
_BATCH = 32


@torch.no_grad()
def prune(scene: Scene, score: Callable[[Tensor], Tensor], size: int, tolerance: float) -> Scene:
    """A detached copy of ``scene`` without its invisible strokes and without the most strokes whose removal keeps
    ``score`` (clean renders ``[K, 3, size, size]`` → higher-is-better ``[K]``) at or above
    ``full - tolerance * |full|``, where ``full`` is the score of the visible strokes. Stroke order is kept; at least
    one stroke stays, and ``tolerance`` 0 keeps every visible one."""
    scene = scene.visible()
    n = scene.num_strokes
    if n <= 1 or tolerance <= 0:  # nothing can go: at least one stroke stays, and the score may not fall
        return scene

    def scores(masks: Tensor) -> Tensor:
        out = []
        for chunk in masks.split(_BATCH):
            out.append(score(render_batch([scene.subset(m) for m in chunk], size)).float().cpu())
        return torch.cat(out)

    everything = torch.ones(1, n, dtype=torch.bool, device=scene.device)
    full = float(scores(everything)[0])
    floor = full - tolerance * abs(full)
    alone = ~torch.eye(n, dtype=torch.bool, device=scene.device)  # row i: every stroke but i
    order = torch.argsort(scores(alone), descending=True, stable=True)  # the cheapest to lose first

    def without_cheapest(k: int) -> Tensor:
        keep = torch.ones(n, dtype=torch.bool, device=scene.device)
        keep[order[:k]] = False
        return keep

    best = 0  # strokes known to go together; order[:best] is the set
    lo, hi = 1, n - 1  # keep at least one stroke
    while lo <= hi:
        mid = (lo + hi) // 2
        if float(scores(without_cheapest(mid)[None])[0]) >= floor:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return scene.subset(without_cheapest(best))


def view_score(objective: Objective, augment: Augment, size: int, seed: int) -> Callable[[Tensor], Tensor]:
    """A score for :func:`prune` that sees every render through the same ``augment.views`` random views (drawn
    once from ``seed``), as the drawing loop's steps see it, rather than one clean view."""
    like = torch.zeros((), device=augment.background.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fixed = augment.homographies((1, 3, size, size), like)

    @torch.no_grad()
    def score(renders: Tensor) -> Tensor:
        k = renders.shape[0]
        views = augment(renders, fixed.repeat(k, 1, 1))
        return -objective(Views(views, k, renders))

    return score
