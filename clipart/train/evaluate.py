"""Zero-shot classification (top-1/top-5) and image–text retrieval (recall@1/5/10 both ways).

Labelled data for zero-shot: a folder whose sub-folders are the classes (``labelled/red_circle/*.png``; an
underscore reads as a space), or a CSV/TSV with image and label columns. Retrieval data: a CSV/TSV of images and
captions; identical captions and repeated images count as one, so any matching caption is a hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from clipart.errors import ClipartError
from clipart.models.build import ModelBundle, build_model
from clipart.models.device import check_device, resolve_device
from clipart.models.spec import parse_spec
from clipart.output import user_path
from clipart.train.captions import punctuated_templates
from clipart.train.sources import IMAGE_EXTENSIONS, decode_image, read_table, resolve_paths


class _Images(Dataset):
    """Transformed images by index; unreadable ones come back as None."""

    def __init__(self, paths: list[str], transform: Callable):
        self.paths, self.transform = paths, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor | None]:
        try:
            return i, self.transform(decode_image(self.paths[i]))
        except Exception:  # any decoding failure: skipped and counted by the caller
            return i, None


def _collate(items: list[tuple[int, torch.Tensor | None]]) -> tuple[torch.Tensor, torch.Tensor | None]:
    good = [(i, x) for i, x in items if x is not None]
    if not good:
        return torch.empty(0, dtype=torch.long), None
    return torch.tensor([i for i, _ in good]), torch.stack([x for _, x in good])


def _bundle(model: str | ModelBundle, pretrained: str | None, device: torch.device) -> ModelBundle:
    if isinstance(model, ModelBundle):
        return model
    bundle = build_model(model, pretrained, device)
    bundle.model.eval()
    return bundle


def _check_model(model: str | ModelBundle, pretrained: str | None, device: str | torch.device) -> None:
    """The model spec and the device, checked before the data is listed (ClipartError in one line)."""
    if not isinstance(model, ModelBundle):
        parse_spec(model, pretrained)
    if not isinstance(device, torch.device):
        check_device(device)


@torch.no_grad()
def encode_images(
    bundle: ModelBundle, paths: list[str], batch_size: int = 64, workers: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices of the readable images, their normalised features ``[n, D]``)."""
    import open_clip

    transform = open_clip.transform.image_transform_v2(
        open_clip.transform.PreprocessCfg(**bundle.preprocess_cfg), is_train=False
    )
    loader = DataLoader(
        _Images(paths, transform), batch_size=batch_size, num_workers=workers, collate_fn=_collate
    )
    device = next(bundle.model.parameters()).device
    indices, features = [], []
    for idx, pixels in loader:
        if pixels is None:
            continue
        with torch.autocast(device.type, enabled=device.type == "cuda"):
            feats = bundle.model.encode_image(pixels.to(device))
        indices.append(idx)
        features.append(F.normalize(feats.float(), dim=-1))
    if not features:
        raise ClipartError("none of the evaluation images could be read: check the paths")
    return torch.cat(indices), torch.cat(features)


@torch.no_grad()
def encode_texts(bundle: ModelBundle, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
    """Normalised text features ``[T, D]``."""
    device = next(bundle.model.parameters()).device
    out = []
    for i in range(0, len(texts), batch_size):
        tokens = bundle.tokenizer(list(texts[i : i + batch_size])).to(device)
        with torch.autocast(device.type, enabled=device.type == "cuda"):
            out.append(F.normalize(bundle.model.encode_text(tokens).float(), dim=-1))
    return torch.cat(out)


def read_labelled(
    data: str | Path, image_column: str = "filepath", label_column: str = "label"
) -> tuple[list[str], list[int], list[str]]:
    """(image paths, class indices, class names) of a labelled folder or CSV/TSV file."""
    if not str(data).strip():  # not the working directory
        raise ClipartError("the evaluation data path is empty: give a labelled folder or a CSV/TSV file")
    path = user_path(data)
    if not path.exists():
        raise ClipartError(f"evaluation data not found: {data}")
    if path.is_dir():
        labelled = [
            (str(p), d.name)
            for d in sorted(path.iterdir())
            if d.is_dir()
            for p in sorted(d.rglob("*"))
            if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
        ]
        if not labelled:
            raise ClipartError(f"{path} has no class sub-folders with images (labelled/<class>/<image>.png)")
        paths, labels = [p for p, _ in labelled], [lab for _, lab in labelled]
    else:
        table, _ = read_table(
            path, [image_column, label_column], hint="name yours with --image-column/--label-column"
        )
        paths, labels = resolve_paths(table[image_column], path.parent), table[label_column]
        if not paths:
            raise ClipartError(f"{path} lists no labelled images")
    names = sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    return paths, [index[lab] for lab in labels], [n.replace("_", " ") for n in names]


def evaluate_zeroshot(
    model: str | ModelBundle,
    data: str | Path,
    templates: Sequence[str] = ("a photo of a {}.",),
    *,
    pretrained: str | None = None,
    image_column: str = "filepath",
    label_column: str = "label",
    batch_size: int = 64,
    workers: int = 0,
    device: str | torch.device = "auto",
    punctuated: bool = False,
) -> dict[str, Any]:
    """Zero-shot accuracy: each class's text feature is the mean over ``templates`` (an ensemble), as
    ``open_clip.build_zero_shot_classifier`` builds it.

    Returns ``{"top1", "top5", "images", "classes", "unreadable"}``; top-5 is top-k with k = min(5, classes).
    With ``punctuated``, also ``"punctuated": {"full_stop": {"top1", "top5"}, "exclaimed": {...}}``: the same
    templates as people type them (:func:`clipart.train.captions.punctuated_templates`).
    """
    from open_clip import build_zero_shot_classifier

    if not templates or any(not isinstance(t, str) or "{}" not in t for t in templates):
        raise ClipartError("each template must contain {} where the class name goes")
    _check_model(model, pretrained, device)
    paths, labels, names = read_labelled(data, image_column, label_column)
    bundle = _bundle(model, pretrained, resolve_device(device))
    indices, image_feats = encode_images(bundle, paths, batch_size, workers)
    target = torch.tensor(labels)[indices]

    def accuracy(wording: Sequence[str]) -> dict[str, float]:
        device = image_feats.device
        # in full precision, also under training's autocast: 16-bit class features would round
        with torch.autocast(device.type, enabled=False):
            classifier = build_zero_shot_classifier(
                bundle.model,
                bundle.tokenizer,
                names,
                list(wording),
                num_classes_per_batch=max(1, 256 // len(wording)),
                device=device,
            )
        top = (image_feats @ classifier.float()).topk(min(5, len(names)), dim=1).indices.cpu()
        hits = top == target[:, None]
        return {"top1": hits[:, 0].float().mean().item(), "top5": hits.any(dim=1).float().mean().item()}

    result: dict[str, Any] = {
        **accuracy(templates),
        "images": len(indices),
        "classes": len(names),
        "unreadable": len(paths) - len(indices),
    }
    if punctuated:
        variants = punctuated_templates(list(templates))
        result["punctuated"] = {k: accuracy(v) for k, v in variants.items()}
    return result


def _recall(similarity: torch.Tensor, relevant: torch.Tensor, ks: Sequence[int]) -> dict[int, float]:
    """Fraction of rows whose top-k columns hold a relevant one, for each k."""
    order = similarity.topk(min(max(ks), similarity.shape[1]), dim=1).indices
    hit_rank = torch.gather(relevant, 1, order).float().cumsum(dim=1) > 0
    return {k: hit_rank[:, min(k, order.shape[1]) - 1].float().mean().item() for k in ks}


def read_retrieval(
    data: str | Path, image_column: str = "filepath", caption_column: str = "caption"
) -> list[tuple[str, str]]:
    """(image path, caption) pairs of a CSV/TSV file for retrieval; ClipartError when there are fewer than 2."""
    path = user_path(data)
    if not path.is_file():
        raise ClipartError(f"retrieval data not found: {data} (give a CSV/TSV of images and captions)")
    table, _ = read_table(path, [image_column, caption_column])
    pairs = list(zip(resolve_paths(table[image_column], path.parent), table[caption_column], strict=True))
    if len(pairs) < 2:
        raise ClipartError(f"{path} needs at least 2 image–caption pairs for retrieval")
    return pairs


def evaluate_retrieval(
    model: str | ModelBundle,
    data: str | Path,
    *,
    pretrained: str | None = None,
    image_column: str = "filepath",
    caption_column: str = "caption",
    ks: Sequence[int] = (1, 5, 10),
    batch_size: int = 64,
    workers: int = 0,
    device: str | torch.device = "auto",
) -> dict[str, Any]:
    """Recall@K image→text and text→image over the pairs of a CSV/TSV file.

    Returns ``{"image_to_text_R@1", ..., "text_to_image_R@10", "images", "texts", "unreadable"}``.
    """
    _check_model(model, pretrained, device)
    pairs = read_retrieval(data, image_column, caption_column)
    images = sorted({p for p, _ in pairs})
    texts = sorted({c for _, c in pairs})
    bundle = _bundle(model, pretrained, resolve_device(device))
    indices, image_feats = encode_images(bundle, images, batch_size, workers)
    text_feats = encode_texts(bundle, texts)
    image_pos = {p: i for i, p in enumerate(images)}
    text_pos = {c: i for i, c in enumerate(texts)}
    relevant = torch.zeros(len(images), len(texts), dtype=torch.bool)
    for p, c in pairs:
        relevant[image_pos[p], text_pos[c]] = True
    relevant = relevant[indices].to(image_feats.device)
    similarity = image_feats @ text_feats.T
    out: dict[str, Any] = {}
    for k, v in _recall(similarity, relevant, ks).items():
        out[f"image_to_text_R@{k}"] = v
    findable = relevant.any(dim=0)  # texts whose images were all unreadable cannot be retrieved
    for k, v in _recall(similarity.T[findable], relevant.T[findable], ks).items():
        out[f"text_to_image_R@{k}"] = v
    out.update(images=len(indices), texts=int(findable.sum()), unreadable=len(images) - len(indices))
    return out
