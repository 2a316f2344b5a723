"""Picture files: image prompts, style images, a search's query image and the files a search indexes. One reader,
so that every face takes the same files: a raster image (what PIL reads) or an SVG of strokes (clipart's own
reader, rendered by clipart's renderer at the size the guide embeds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Union

from clipart.errors import ClipartError, ConfigError
from clipart.output import user_path

if TYPE_CHECKING:
    from PIL import Image
    from torch import Tensor

    from clipart.scene import Scene

MAX_PIXELS = 64_000_000  # larger files are refused before they are decoded
MAX_SVG_BYTES = 32_000_000
MAX_SVG_STROKES = 4096  # as many as a drawing may have (clipart.config.LIMITS)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
PICTURE_EXTENSIONS = IMAGE_EXTENSIONS | {".svg"}  # what open_image reads (an SVG by its name)
Picture = Union["Image.Image", "Scene"]


def open_image(path: str | Path, what: str = "image prompt", *, warn: bool = True) -> Picture:
    """The picture at ``path``, decoded and checked, or ConfigError in one line: a raster image as RGB
    (transparency composited onto white), an ``.svg`` file as the Scene of its strokes (parts it cannot read are
    skipped, with a warning unless ``warn`` is False). :func:`as_tensor` turns either into what a guide embeds."""
    path = user_path(path)
    if not path.is_file():
        raise ConfigError(f"the {what} {path} does not exist (or is not a file)")
    if path.suffix.lower() == ".svg":
        return _open_svg(path, what, warn)
    from PIL import Image, UnidentifiedImageError

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


def _open_svg(path: Path, what: str, warn: bool) -> Scene:
    from clipart.svg import svg_to_scene

    try:
        if path.stat().st_size > MAX_SVG_BYTES:
            raise ConfigError(f"the {what} {path} is too large ({path.stat().st_size:,} bytes)")
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"the {what} {path} cannot be read: {e.strerror or type(e).__name__}") from None
    try:
        scene = svg_to_scene(data.decode("utf-8-sig"), warn=warn)
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} {path} cannot be read: not UTF-8 text (is it an SVG file?)") from None
    except ClipartError as e:
        raise ConfigError(f"the {what} {path} cannot be read: {e}") from None
    if scene.num_strokes > MAX_SVG_STROKES:
        raise ConfigError(
            f"the {what} {path} has {scene.num_strokes} strokes: clipart renders at most {MAX_SVG_STROKES}"
        )
    return scene


def as_tensor(picture: Picture, size: int) -> Tensor:
    """A picture as a guide embeds it, ``[3, size, size]`` floats in [0, 1] on the CPU: a raster image's centre
    square, an SVG's square canvas rendered at ``size`` px."""
    import torch
    from PIL import Image
    from torchvision.transforms.functional import to_tensor

    if not isinstance(picture, Image.Image):
        from clipart.render import render

        with torch.no_grad():
            return render(picture.to("cpu"), size)
    return to_tensor(square(picture, size))


def square(image: Image.Image, size: int) -> Image.Image:
    """The centre square of ``image`` at ``size`` px (as open_clip's preprocessing crops), on whole pixels:
    ``PIL.ImageOps.fit`` centres to a fraction of a pixel, which would change the embeddings of every image
    prompt and every search index made before."""
    from PIL import Image

    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    crop = image.crop((left, top, left + side, top + side))
    return crop.resize((size, size), Image.Resampling.BICUBIC)
