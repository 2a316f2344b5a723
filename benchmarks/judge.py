"""An independent judge of drawings: a small CNN classifier that never guides a drawing.

It is trained apart from clipart-mini (a classifier, not a contrastive model; another architecture, its own
seed and its own augmentations) on pictures of the concepts in :data:`CONCEPTS`: handwritten digits from
scikit-learn's training part of ``load_digits``, procedural shapes and Noto emoji, drawn with the data builder's
painters. ``bench_judge.py`` asks it whether a drawing shows the concept it was drawn for; colours of shape
prompts are judged separately, from the ink's median colour.

Train (about 8 minutes on one busy core; 94.7 % held-out accuracy over 30 classes): ``python benchmarks/judge.py``; weights go to ``benchmarks/judge/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

HERE = Path(__file__).parent / "judge"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "recipes"))  # the data builders' painters
SIZE = 64
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SHAPES = ("circle", "square", "triangle", "star", "heart")
EMOJI = {
    "horse face": "\U0001f434",
    "cat face": "\U0001f431",
    "dog face": "\U0001f436",
    "cupcake": "\U0001f9c1",
    "pizza": "\U0001f355",
    "red apple": "\U0001f34e",
    "rocket": "\U0001f680",
    "house": "\U0001f3e0",
    "fish": "\U0001f41f",
    "automobile": "\U0001f697",
    "banana": "\U0001f34c",
    "ghost": "\U0001f47b",
    "bicycle": "\U0001f6b2",
    "evergreen tree": "\U0001f332",
    "butterfly": "\U0001f98b",
}
CONCEPTS: list[str] = [f"digit {d}" for d in DIGITS] + list(SHAPES) + list(EMOJI)


class JudgeNet(nn.Module):
    """Four conv blocks and a linear head over 64 px RGB pictures."""

    def __init__(self, classes: int) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)
            )

        self.features = nn.Sequential(block(3, 32), block(32, 64), block(64, 128), block(128, 128))
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(128, classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def _picture(concept: str, rng: np.random.Generator, font: str, digits: list[np.ndarray]) -> Image.Image:
    import minidata_draw as draw
    from minidata_text import COLOURS

    colours = list(COLOURS.values())
    if concept.startswith("digit "):
        d = DIGITS.index(concept.split()[1])
        obj = draw.digit_image(
            digits[d][rng.integers(len(digits[d]))], colours[rng.integers(len(colours))], rng
        )
    elif concept in SHAPES:
        style = ("filled", "outline", "sketchy")[rng.integers(3)]
        obj = draw.shape_image(concept, colours[rng.integers(len(colours))], style, rng)
    else:
        glyph = draw.render_glyph(EMOJI[concept], font)
        obj = draw.emoji_variant(glyph, draw.EMOJI_VARIANTS[rng.integers(len(draw.EMOJI_VARIANTS))], rng)
    canvas = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    extent = float(rng.uniform(0.5, 0.95))
    centre = (float(rng.uniform(0.35, 0.65)), float(rng.uniform(0.35, 0.65)))
    return draw.place(canvas, obj, centre, extent, float(rng.normal(0, 10)))


def make_data(per_class: int, seed: int) -> tuple[Tensor, Tensor]:
    """Pictures ``[N, 3, 64, 64]`` and labels for every concept (digits from the training part only)."""
    from minidata import digit_split, find_font
    from sklearn.datasets import load_digits

    font = str(find_font())
    data = load_digits()
    train_idx = set(digit_split()[0])
    digits = [[data.images[i] for i in sorted(train_idx) if data.target[i] == d] for d in range(10)]
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, concept in enumerate(CONCEPTS):
        for _ in range(per_class):
            images.append(np.asarray(_picture(concept, rng, font, digits)))
            labels.append(label)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return x, torch.tensor(labels)


def _augment(x: Tensor) -> Tensor:
    """The judge's own augmentations: affine jitter, blur, colour jitter, erasing, occasional greyscale."""
    from torchvision.transforms import v2

    aug = v2.Compose(
        [
            v2.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.75, 1.1), fill=1.0),
            v2.RandomApply([v2.GaussianBlur(5, sigma=(0.3, 1.5))], p=0.4),
            v2.ColorJitter(0.3, 0.3, 0.4, 0.05),
            v2.RandomGrayscale(0.1),
            v2.RandomErasing(p=0.3, scale=(0.02, 0.1), value=1.0),
        ]
    )
    return torch.stack([aug(img) for img in x])


def train(per_class: int = 160, epochs: int = 12, seed: int = 7) -> float:
    """Train the judge, save it, and return its accuracy on fresh held-out pictures."""
    torch.manual_seed(seed)
    x, y = make_data(per_class, seed)
    vx, vy = make_data(20, seed + 1000)
    net = JudgeNet(len(CONCEPTS))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(x) + 63) // 64))
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i : i + 64]
            loss = nn.functional.cross_entropy(net(_augment(x[idx])), y[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc = accuracy(net, vx, vy)
        print(f"epoch {epoch + 1}/{epochs}  loss {loss.item():.3f}  held-out accuracy {acc:.3f}", flush=True)
    save(net)
    return acc


def accuracy(net: JudgeNet, x: Tensor, y: Tensor) -> float:
    """Top-1 accuracy of ``net`` on pictures ``x`` with labels ``y``."""
    net.eval()
    with torch.no_grad():
        return float((net(x).argmax(1) == y).float().mean())


def save(net: JudgeNet) -> None:
    """Write the weights and the class list under ``benchmarks/judge/``."""
    from safetensors.torch import save_file

    HERE.mkdir(exist_ok=True)
    save_file(net.state_dict(), str(HERE / "judge.safetensors"))
    (HERE / "classes.json").write_text(json.dumps(CONCEPTS, indent=1) + "\n")


def load() -> JudgeNet:
    """The trained judge (eval mode)."""
    from safetensors.torch import load_file

    classes = json.loads((HERE / "classes.json").read_text())
    net = JudgeNet(len(classes))
    net.load_state_dict(load_file(str(HERE / "judge.safetensors")))
    return net.eval()


def classify(net: JudgeNet, image: Image.Image) -> tuple[str, float]:
    """The concept the judge sees in ``image`` and its probability."""
    x = torch.from_numpy(np.array(image.convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)))
    with torch.no_grad():
        p = net(x.permute(2, 0, 1)[None].float() / 255).softmax(1)[0]
    return CONCEPTS[int(p.argmax())], float(p.max())


def ink_colour(image: Image.Image) -> str:
    """The named colour nearest to the median colour of the non-white pixels."""
    from minidata_text import COLOURS

    arr = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(float)
    ink = arr[(255 - arr).sum(1) > 90]
    if len(ink) == 0:
        return "none"
    med = np.median(ink, axis=0)
    return min(COLOURS, key=lambda c: float(((np.array(COLOURS[c]) - med) ** 2).sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description="Train the independent drawing judge.")
    parser.add_argument("--per-class", type=int, default=160)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    t0 = time.perf_counter()
    acc = train(args.per_class, args.epochs)
    print(
        f"judge trained in {time.perf_counter() - t0:.0f} s; held-out accuracy {acc:.3f} over {len(CONCEPTS)} classes"
    )


if __name__ == "__main__":
    main()
