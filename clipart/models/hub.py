"""The Hugging Face hub, offline-aware: fail in about a second when weights are neither cached nor reachable,
instead of open_clip's long retry loop."""

from __future__ import annotations

import os
import threading

from clipart.errors import ModelError
from clipart.models.spec import EMBEDDED_NAME, weight_files


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``timeout`` seconds (DNS included)."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.2)
    return bool(result and result[0])


def _hf_cached(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    for name in (*weight_files(), "open_clip_pytorch_model.safetensors"):
        path = try_to_load_from_cache(repo_id.rstrip("/"), name)
        if isinstance(path, str):
            return True
    return False


def ensure_hub(what: str, repo_id: str) -> None:
    """Fail fast when ``repo_id`` is neither cached nor downloadable; go offline when cached and unreachable."""
    import huggingface_hub.constants as hf_constants

    cached = _hf_cached(repo_id)
    if hf_constants.HF_HUB_OFFLINE and not cached:
        raise ModelError(
            f"{what} is not in the local cache and HF_HUB_OFFLINE is set: download it once online"
        )
    if hf_constants.HF_HUB_OFFLINE:
        return
    if hub_reachable():
        return
    if cached:
        hf_constants.HF_HUB_OFFLINE = True  # use the cache without a network round trip
        return
    raise ModelError(
        f"{what} must be downloaded from the Hugging Face hub, which cannot be reached: connect to the "
        f"internet once (weights are cached afterwards), or use the embedded model (--model {EMBEDDED_NAME})"
    )
