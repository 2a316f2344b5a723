"""DrawConfig (every setting of a drawing) and presets (named settings shipped as TOML files)."""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipart.colors import parse_background, parse_color
from clipart.errors import ClipartError, ConfigError
from clipart.imagefile import open_image
from clipart.models.device import check_device
from clipart.models.spec import EMBEDDED_NAME, ModelSpec, parse_spec
from clipart.typecheck import check_fields, check_value, short

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_PRESET = "quick"
CLIPDRAW_NEGATIVES = ("A badly drawn sketch.", "Many ugly, messy drawings.")
DEFAULT_NEGATIVE_WEIGHT = 0.3  # of a negative prompt that carries no weight of its own

# Caps that keep one drawing from taking a machine down; a face may pass lower ones (the web app's, for visitors)
# to :meth:`DrawConfig.validate`. ``prompt_chars`` caps each prompt's length, ``negatives`` their number.
LIMITS = {"strokes": 4096, "steps": 100_000, "size": 4096, "views": 64, "candidates": 64,
          "prompt_chars": 10_000, "negatives": 64}  # fmt: skip
WHOLE_NUMBERS = ("strokes", "steps", "size", "views", "candidates")
MAX_WEIGHT = 100.0  # |prompt weight|: more only saturates the loss
FLOAT_SETTINGS = ("prompt_weights", "negative_weights", "image_weights", "style_weight", "perspective", "crop_scale", "color_jitter", "lr_points", "lr_widths",
                  "lr_colors", "icon_lr_points", "icon_lr_widths", "icon_lr_colors", "init_radius", "init_width", "min_width", "max_width", "respawn_alpha", "prune")  # fmt: skip


@dataclass
class DrawConfig:
    """All settings of one drawing. Pixel-valued settings refer to the optimisation canvas of ``size`` px."""

    prompts: list[str] = field(default_factory=list)
    prompt_weights: list[float] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # image prompts: files the drawing is pulled towards
    image_weights: list[float] = field(default_factory=list)
    style: str | None = None  # a style image: its textures and colours, as the guide sees them
    style_weight: float = 1.0
    negatives: list[str] = field(default_factory=list)
    negative_weights: list[float] = field(default_factory=list)
    models: list[ModelSpec] = field(
        default_factory=lambda: [parse_spec(EMBEDDED_NAME)]
    )  # an ensemble: several
    strokes: int = 256
    min_segments: int = 1
    max_segments: int = 3
    steps: int = 1000
    size: int = 224
    views: int = 4
    perspective: float = 0.5
    crop_scale: tuple[float, float] = (0.7, 0.9)
    color_jitter: float = 0.0  # each view's brightness, contrast, saturation × U[1 - s, 1 + s]; 0: off
    lr_points: float = 1.0
    lr_widths: float = 0.1
    lr_colors: float = 0.01
    # the rates of a drawing that starts from an icon (start="icon"): small, or the icon turns back into a tangle
    icon_lr_points: float = 0.2
    icon_lr_widths: float = 0.0
    icon_lr_colors: float = 0.0
    init_radius: float = 0.1
    init_width: float = 1.0
    min_width: float = 1.0
    max_width: float = 50.0
    init_color: str = "random"
    respawn_every: int = 0
    respawn_alpha: float = 0.05
    prune: float = 0.0  # at the end, drop strokes while the score holds within this fraction; 0: off
    # the canvas colour; empty: white, or the colour of an icon start's scene (its setting's: "at night" is dark blue);
    # "none" (or "transparent", any case; kept as "none"): no canvas, an SVG without a background and a PNG with alpha,
    # the guide seeing each view over a random colour; an icon start's setting then adds its strokes, not its colour
    background: str = ""
    init_svg: str | None = None
    # random strokes (CLIPDraw), or "icon": the strokes of the bank's icon of what the prompt names (clipart/start.py;
    # `strokes` then does not apply). init_svg wins over it, and a drawing without a text prompt starts at random.
    start: str = "random"
    # an icon start's pen: a colour such as "#000000" redraws its strokes in it, init_width px wide (a sketch's
    # uniform line); empty: the icon's own colours and widths
    icon_pen: str = ""
    candidates: int = 1
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # CPU threads; 0: the cores other work leaves free (clipart/threads.py)
    preview_every: int = 10
    animate: bool = False
    preset: str | None = None

    def validate(self, limits: dict[str, int] | None = None) -> DrawConfig:
        """Check every value; raise ConfigError with one clear line on the first bad one. Returns self.

        ``limits`` lowers caps of :data:`LIMITS` (a face's, such as the web app's); model specs given as text
        are parsed into :class:`~clipart.models.ModelSpec` here.
        """
        check_fields(self, hints=_HINTS)
        caps = {k: min(v, (limits or {}).get(k, v)) for k, v in LIMITS.items()}
        if not (self.prompts or self.images) or any(not p.strip() for p in self.prompts):
            raise ConfigError('the prompt is empty: give a text such as "a red circle" (or an image prompt)')
        if len(self.negatives) > caps["negatives"]:
            raise ConfigError(f"give at most {caps['negatives']} negative prompts")
        for text in [*self.prompts, *self.negatives]:
            check_text(text, "prompt", caps["prompt_chars"])
        for name in FLOAT_SETTINGS:
            values = getattr(self, name)
            for value in values if isinstance(values, (list, tuple)) else [values]:
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                    raise ConfigError(f"{name} must be a finite number, got {short(value)}")
        for name in ("prompt_weights", "negative_weights", "image_weights"):
            if any(abs(w) > MAX_WEIGHT for w in getattr(self, name)):
                raise ConfigError(f"prompt weights must lie in [-{MAX_WEIGHT:g}, {MAX_WEIGHT:g}]")
        if (
            not isinstance(self.seed, int)
            or isinstance(self.seed, bool)
            or not 0 <= self.seed < 2**63 - LIMITS["candidates"]
        ):
            raise ConfigError(f"seed must be a whole number from 0 to 2**63 - 65, got {short(self.seed)}")
        if len(self.prompt_weights) != len(self.prompts):
            raise ConfigError("give one weight per prompt")
        if len(self.image_weights) != len(self.images):
            raise ConfigError("give one weight per image prompt")
        for path in self.images:  # read now (quietly: the drawing warns of a partly read SVG when it uses it)
            open_image(path, warn=False)
        if self.style is not None:
            open_image(self.style, "style image", warn=False)
        if not 0 <= self.style_weight <= MAX_WEIGHT * 100:
            raise ConfigError(f"style_weight must lie in [0, {MAX_WEIGHT * 100:g}], got {self.style_weight}")
        if len(self.negative_weights) != len(self.negatives):
            raise ConfigError("give one weight per negative prompt")
        if any(not n.strip() for n in self.negatives):
            raise ConfigError("a negative prompt is empty")
        if not self.models:
            raise ConfigError("no guide model given")
        self.models = [parse_spec(m) for m in self.models]
        for name in WHOLE_NUMBERS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > caps[name]:
                raise ConfigError(f"{name} must be a whole number from 1 to {caps[name]}, got {short(value)}")
        if (
            not isinstance(self.threads, int)
            or isinstance(self.threads, bool)
            or not 0 <= self.threads <= 1024
        ):
            raise ConfigError(
                f"threads must be a whole number from 0 (automatic) to 1024, got {short(self.threads)}"
            )
        if self.size < 16:
            raise ConfigError(f"size must be at least 16 px, got {self.size}")
        if not 1 <= self.min_segments <= self.max_segments <= 3:
            raise ConfigError("segments per stroke must satisfy 1 <= min_segments <= max_segments <= 3")
        if not 0.0 <= self.perspective <= 1.0:
            raise ConfigError(f"perspective must be in [0, 1], got {self.perspective}")
        if not 0.0 <= self.color_jitter <= 1.0:
            raise ConfigError(f"color_jitter must be in [0, 1], got {self.color_jitter}")
        lo, hi = self.crop_scale
        if not 0.0 < lo <= hi <= 1.0:
            raise ConfigError(f"crop_scale must satisfy 0 < min <= max <= 1, got {self.crop_scale}")
        for name in ("lr_points", "lr_widths", "lr_colors", "icon_lr_points", "icon_lr_widths", "icon_lr_colors",
                     "init_radius"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        if not 0 < self.min_width <= self.max_width:
            raise ConfigError("widths must satisfy 0 < min_width <= max_width")
        if not self.min_width <= self.init_width <= self.max_width:
            raise ConfigError("init_width must lie between min_width and max_width")
        if self.init_color not in ("random", "black", "gray"):
            raise ConfigError(f"init_color must be random, black or gray, got {short(self.init_color)}")
        if self.background:
            self.background = "none" if parse_background(self.background) is None else self.background
        if self.icon_pen:
            parse_color(self.icon_pen, "icon_pen")
        if self.start not in ("random", "icon"):
            raise ConfigError(f"start must be random or icon, got {short(self.start)}")
        if self.init_svg is not None:
            if not Path(self.init_svg).is_file():
                raise ConfigError(f"the initial SVG does not exist: {self.init_svg}")
            from clipart.svg import read_svg_file

            read_svg_file(self.init_svg, warn=False)  # quietly: a bad one is refused before any work
        if (
            not isinstance(self.respawn_every, int)
            or isinstance(self.respawn_every, bool)
            or self.respawn_every < 0
        ):
            raise ConfigError(
                f"respawn_every must be a whole number of steps (0: never), got {short(self.respawn_every)}"
            )
        if not 0.0 <= self.respawn_alpha <= 1.0:
            raise ConfigError(f"respawn_alpha must be in [0, 1], got {self.respawn_alpha}")
        if not 0.0 <= self.prune <= 1.0:
            raise ConfigError(f"prune must be in [0, 1] (0: off), got {self.prune}")
        if self.preview_every < 1:
            raise ConfigError("preview_every must be at least 1")
        check_device(self.device)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every setting (model specs as their text, e.g. ``ViT-B-32::openai``)."""
        return {**dataclasses.asdict(self), "models": [str(m) for m in self.models]}


def check_text(text: str, what: str = "prompt", most: int = LIMITS["prompt_chars"]) -> str:
    """``text`` unless it is longer than ``most`` characters or not valid text (undecodable bytes from a shell);
    ConfigError in one line naming ``what`` it is."""
    if len(text) > most:
        raise ConfigError(f"the {what} is too long: at most {most} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(
            f"the {what} {short(text.encode('utf-8', 'backslashreplace').decode())} is not valid text "
            "(undecodable bytes): check your terminal's encoding (UTF-8)"
        ) from None
    return text


_FIELDS = {f.name: f for f in dataclasses.fields(DrawConfig)}
# the type each setting takes; models also as spec texts (validate parses them)
_HINTS = {**typing.get_type_hints(DrawConfig), "models": list[ModelSpec | str]}
MAX_PRESET_BYTES = 1_000_000  # a preset is a few settings
_PRESET_KEYS = set(_FIELDS) - {"prompts", "prompt_weights", "images", "image_weights", "style", "preset", "init_svg", "seed",
                               "threads"}  # fmt: skip


def _preset_dir() -> Path:
    """The shipped presets: the package ``clipart.presets`` (the top-level ``presets/`` of a checkout)."""
    from importlib.resources import files

    return Path(str(files("clipart.presets")))


def _check_type(name: str, value: Any, where: str) -> Any:
    """``value`` as the setting ``name`` takes it, or ConfigError naming the setting and what it takes."""
    return check_value(name, value, _HINTS[name], where)


def _preset_path(name: str) -> Path:
    path = Path(name)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ConfigError(f"preset file not found: {name}")
        return path
    path = _preset_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(list_presets()))
        raise ConfigError(f"unknown preset {short(name)}; known presets: {known} (or give a .toml file)")
    return path


def load_preset(name: str) -> dict[str, Any]:
    """Settings of a preset (a shipped name such as ``quick``, or a path to a ``.toml`` file), validated."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"a preset is a name or a .toml file, got {short(name)}")
    path = _preset_path(name)
    try:
        if path.stat().st_size > MAX_PRESET_BYTES:
            raise ConfigError(f"preset {path.name} is too large ({path.stat().st_size:,} bytes): a preset is a "
                              "few settings")  # fmt: skip
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read preset {path}: {e.strerror or type(e).__name__}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"preset {path.name} is not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(
            f"preset {path.name} nests lists or tables too deeply: a preset is flat settings"
        ) from None
    data.pop("description", None)
    unknown = sorted(set(data) - _PRESET_KEYS)
    if unknown:
        shown = ", ".join(k if len(k) <= 40 else f"{k[:39]}…" for k in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ConfigError(f"preset {path.name}: unknown setting(s) {shown}{more}")
    settings = {k: _check_type(k, v, f"preset {path.name}") for k, v in data.items()}
    if "models" in settings:
        try:
            settings["models"] = [parse_spec(m) for m in settings["models"]]
        except ClipartError as e:
            raise ConfigError(f"preset {path.name}: {e}") from None
    return settings


def list_presets() -> dict[str, str]:
    """Shipped presets: name → one-line description."""
    out = {}
    for path in sorted(_preset_dir().glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = str(data.get("description", ""))
    return out


def split_weight(text: str, default: float = 1.0) -> tuple[str, float]:
    """'a horse::2' → ('a horse', 2.0); text without '::' keeps ``default``."""
    if "::" in text:
        head, _, tail = text.rpartition("::")
        try:
            return head.strip(), float(tail)
        except ValueError:
            raise ConfigError(f"bad prompt weight in {short(text)}: write 'text::1.5'") from None
    return text.strip(), default


def make_config(
    prompt: str | list[str] | None = None,
    *,
    image: str | list[str] | None = None,
    preset: str | None = DEFAULT_PRESET,
    negatives: list[str] | None = None,
    negative_weight: float | None = None,
    model: str | ModelSpec | list[str | ModelSpec] | None = None,
    pretrained: str | list[str | None] | None = None,
    limits: dict[str, int] | None = None,
    **overrides: Any,
) -> DrawConfig:
    """Build a validated DrawConfig: preset values, then explicit overrides (``None`` means "not given").

    ``prompt`` is one text or a list; a text may carry a weight as ``"text::2"``. ``image`` is one image file or
    a list (image prompts, ``"cat.png::0.5"`` weighted likewise); a drawing needs a prompt, an image or both. Negative prompts get
    ``negative_weight`` (default 0.3) unless they carry their own; a preset's own ``negative_weights`` are kept
    unless ``negative_weight`` is given. ``model`` is one model spec or a list (an ensemble); ``pretrained``
    gives weights to the model in the same place. ``limits`` lowers the caps of :data:`LIMITS`.
    """
    settings: dict[str, Any] = {}
    if preset is not None:  # None: no preset; an empty name is refused, not taken for none
        settings.update(load_preset(preset))
        settings["preset"] = preset
    parsed = [split_weight(p) if isinstance(p, str) else (p, 1.0) for p in _several("prompt", prompt)]
    settings["prompts"] = [p for p, _ in parsed]
    settings["prompt_weights"] = [w for _, w in parsed]
    pictures = [split_weight(str(p)) for p in _several("image", image)]
    settings["images"] = [p for p, _ in pictures]
    settings["image_weights"] = [w for _, w in pictures]
    if negative_weight is not None:
        negative_weight = check_value("negative_weight", negative_weight, float, "setting")
    weight = DEFAULT_NEGATIVE_WEIGHT if negative_weight is None else negative_weight
    if negatives is not None:
        neg = [
            split_weight(n, weight) if isinstance(n, str) else (n, weight)
            for n in _several("negatives", negatives)
        ]
        settings["negatives"] = [n for n, _ in neg]
        settings["negative_weights"] = [w for _, w in neg]
    elif "negatives" in settings and (negative_weight is not None or "negative_weights" not in settings):
        settings["negative_weights"] = [weight] * len(settings["negatives"])
    if model is not None or pretrained is not None:
        settings["models"] = _models(model, pretrained, settings.get("models"))
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in _FIELDS:
            raise ConfigError(f"unknown setting {short(key)}")
        settings[key] = _check_type(key, value, "setting")
    return DrawConfig(**settings).validate(limits)


def _several(name: str, value: Any) -> list:
    """A text (or a file's path) or a list of them as a list; ConfigError for anything else."""
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ConfigError(f"setting: {name} has the wrong type: it takes a text or a list of texts, got "
                      f"{type(value).__name__}")  # fmt: skip


def _models(
    model: str | ModelSpec | list | None, pretrained: str | list[str | None] | None, preset: list | None
) -> list[ModelSpec]:
    """The guides: ``model`` (or the preset's, or the embedded one), ``pretrained[i]`` giving the weights of the
    i-th (replacing a preset model's own tag)."""
    if model is not None:
        specs: list = list(model) if isinstance(model, (list, tuple)) else [model]
    else:
        specs = [dataclasses.replace(m, pretrained=None) for m in preset or [parse_spec(EMBEDDED_NAME)]]
    if pretrained is None:
        return [parse_spec(m) for m in specs]
    tags = list(pretrained) if isinstance(pretrained, (list, tuple)) else [pretrained]
    if len(tags) > len(specs):
        raise ConfigError("give at most one --pretrained per --model, in the same order")
    tags += [None] * (len(specs) - len(tags))
    return [
        parse_spec(str(m) if isinstance(m, ModelSpec) else m, tag) for m, tag in zip(specs, tags, strict=True)
    ]
