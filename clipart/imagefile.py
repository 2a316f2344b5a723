"""Image files given as prompts: opened once, checked, and turned into what a guide embeds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clipart.errors import ConfigError

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

MAX_PIXELS = 64_000_000  # larger files are refused before they are decoded
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


def open_image(path: str | Path, what: str = "image prompt") -> Image.Image:
    """The image at ``path`` as RGB (transparency composited onto white), or ConfigError in one line."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"the {what} {path} does not exist (or is not a file)")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ConfigError(f"the {what} {path} is too large ({image.width}×{image.height} px)")
            image.load()
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        reason = (
            "not an image PIL can read"
            if isinstance(e, UnidentifiedImageError)
            else str(e) or type(e).__name__
        )
        raise ConfigError(f"the {what} {path} cannot be read: {reason}") from None
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def as_tensor(image: Image.Image, size: int) -> Tensor:
    """The centre square of an RGB image at ``size`` px as ``[3, size, size]`` floats in [0, 1] (what a guide
    embeds)."""
    import numpy as np
    import torch

    pixels = np.asarray(square(image, size), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1)


def square(image: Image.Image, size: int) -> Image.Image:
    """The centre square of ``image`` at ``size`` px (as open_clip's preprocessing crops)."""
    from PIL import Image

    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    crop = image.crop((left, top, left + side, top + side))
    return crop.resize((size, size), Image.Resampling.BICUBIC)
