"""DrawConfig (every setting of a drawing) and presets (named settings shipped as TOML files)."""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipart.colors import parse_background, parse_color
from clipart.errors import ClipartError, ConfigError
from clipart.imagefile import open_image
from clipart.models.device import check_device
from clipart.models.spec import EMBEDDED_NAME, ModelSpec, parse_spec
from clipart.typecheck import check_fields, check_value, describe, short

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
MAX_WEIGHT = 100.0  # |prompt weight|: more only saturates the loss


@dataclass(frozen=True)
class Setting:
    """Everything about one drawing setting but its type and default (its DrawConfig field's): the values it
    takes, what it means and where it shows. Validation, ``clipart draw``'s flags, the web page's controls and
    the settings table of docs/reference.md are derived from it."""

    help: str  # one line: what the setting does
    group: str = "optimisation"  # where ``clipart draw --help`` (and the docs' table) shows it
    unit: str = ""  # "px", "steps", ...
    low: float | None = None  # the smallest value (of each item, for a list or a pair)
    high: float | None = None  # the largest
    above: bool = False  # the value must exceed ``low``
    cap: str = ""  # a key of LIMITS: the largest value (of a list: its most items), which a face may lower
    zero: str = ""  # what 0 means ("off", "automatic")
    choices: tuple[str, ...] = ()
    check: Callable[[str, Any], Any] | None = None  # the value's own check after its range (a colour, a file)
    flag: str | None = ""  # "": ``--name-with-dashes``; "--init": that flag; None: ``--set name=value`` only
    given_by: str = ""  # set by the faces' own options instead ("--image FILE"): no flag of its own, no --set
    metavar: str = ""  # the flag's value in --help
    default_words: str = ""  # the default in words, where the value alone does not say it
    cli_default: str = ""  # the default as ``clipart draw --help`` says it, where the command's differs
    page: str = ""  # the web page's label: the page shows the setting as a control
    page_range: tuple[float, float] | None = None  # the page's slider, where narrower than the values taken
    page_box: bool = False  # a number box on the page, not a slider (a range too wide to slide over)
    noun: str = ""  # what messages call it ("prompt weights"), if not its name
    in_presets: bool = True  # a preset file may set it

    def bounds(self, caps: dict[str, int] | None = None) -> tuple[float | None, float | None]:
        """The lowest and highest value (of a number, or of each item of a pair), the cap of ``caps`` applied."""
        high = self.high
        if self.cap:
            cap = {**LIMITS, **(caps or {})}[self.cap]
            high = cap if high is None else min(high, cap)
        return self.low, high

    def values(self, whole: bool, caps: dict[str, int] | None = None) -> str:
        """The values taken, in words ("a whole number from 1 to 4096", "in [0, 1] (0: off)"); "" for any."""
        if self.choices:
            return f"{', '.join(self.choices[:-1])} or {self.choices[-1]}"
        low, high = self.bounds(caps)
        if whole:
            zero = f" ({self.zero})" if self.zero else ""
            if low is not None and high is not None:
                return f"a whole number from {int(low)}{zero} to {int(high)}"
            if low is not None:
                return f"a whole number, at least {int(low)}{zero}"
            return f"a whole number, at most {int(high)}" if high is not None else ""
        zero = f" (0: {self.zero})" if self.zero else ""
        if low is not None and high is not None:
            return f"in {'(' if self.above else '['}{low:g}, {high:g}]{zero}"
        if low is not None:
            return f"{'above' if self.above else 'at least'} {low:g}{zero}"
        return ""


def setting(
    default: Any = None, help: str = "", *, factory: Callable[[], Any] | None = None, **about: Any
) -> Any:
    """A DrawConfig field: its ``default`` (or ``factory``, for a list) and what :class:`Setting` says of it."""
    meta = {"setting": Setting(help, **about)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _colour(name: str, value: str) -> str:
    if value:  # empty: the default
        parse_color(value, name)
    return value


def _canvas(name: str, value: str) -> str:
    """A colour, "" (the default), or "none" for any spelling of none or transparent."""
    return "none" if value and parse_background(value) is None else value


def _pictures(name: str, paths: list[str]) -> list[str]:
    for path in paths:  # read now (quietly: the drawing warns of a partly read SVG when it uses it)
        open_image(path, warn=False)
    return paths


def _style(name: str, path: str | None) -> str | None:
    if path is not None:
        open_image(path, "style image", warn=False)
    return path


def _svg(name: str, path: str | None) -> str | None:
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"the initial SVG does not exist: {path}")
        from clipart.svg import read_svg_file

        read_svg_file(path, warn=False)  # quietly: a bad one is refused before any work
    return path


def _guides(name: str, specs: list[ModelSpec | str]) -> list[ModelSpec]:
    if not specs:
        raise ConfigError("no guide model given")
    return [parse_spec(m) for m in specs]


def _device(name: str, device: str) -> str:
    return check_device(device)


_WEIGHT: dict[str, Any] = {"low": -MAX_WEIGHT, "high": MAX_WEIGHT, "group": "prompts"}
_RATE: dict[str, Any] = {"low": 0.0, "group": "rates", "metavar": "LR"}
_START: dict[str, Any] = {"group": "start", "flag": None}
_SEED_HIGH = 2**63 - 1 - LIMITS["candidates"]  # each candidate takes the next seed


@dataclass
class DrawConfig:
    """All settings of one drawing. Pixel-valued settings refer to the optimisation canvas of ``size`` px.

    Each field is declared once, here: its type, its default and (:func:`setting`) the rest of what there is to
    know about it (:class:`Setting`), from which validation, ``clipart draw``'s flags and the web page's
    controls are derived. Adding a setting is adding a field (and the code that uses it); the generated texts
    that show it (docs/reference.md's table, the stub clipart/api.pyi) are rewritten by ``python -m
    clipart.config`` and ``python -m clipart.api``, and tests say when they are not.
    """

    prompts: list[str] = setting(
        factory=list, help="the texts to draw", group="prompts", given_by="the prompt words", in_presets=False
    )
    prompt_weights: list[float] = setting(
        factory=list,
        in_presets=False,
        help="each prompt's weight",
        noun="prompt weights",
        given_by="'text::W'",
        **_WEIGHT,
    )
    images: list[str] = setting(
        factory=list,
        in_presets=False,
        help="image prompts: pictures the drawing is pulled towards",
        check=_pictures,
        group="prompts",
        given_by="--image FILE",
    )
    image_weights: list[float] = setting(
        factory=list,
        in_presets=False,
        help="each image prompt's weight",
        noun="image prompt weights",
        given_by="--image FILE::W",
        **_WEIGHT,
    )
    style: str | None = setting(
        None,
        "a style image: draw with its colours and textures",
        in_presets=False,
        check=_style,
        group="prompts",
        metavar="FILE",
        default_words="none",
    )
    style_weight: float = setting(
        1.0,
        "weight of the style image",
        low=0.0,
        high=MAX_WEIGHT * 100,
        group="prompts",
        metavar="W",
        page="Style weight",
        page_range=(0.0, 10.0),
    )
    negatives: list[str] = setting(
        factory=list,
        help="prompts to move away from",
        cap="negatives",
        noun="negative prompts",
        group="prompts",
        given_by="--negative TEXT, --default-negatives",
    )
    negative_weights: list[float] = setting(
        factory=list,
        help="each negative prompt's weight",
        noun="negative prompt weights",
        given_by="--negative-weight W, 'text::W'",
        **_WEIGHT,
    )
    models: list[ModelSpec] = setting(
        factory=lambda: [parse_spec(EMBEDDED_NAME)],
        help="the guide models (several: an ensemble, losses averaged)",
        check=_guides,
        group="prompts",
        given_by="--model, --pretrained",
        default_words=EMBEDDED_NAME,
    )
    strokes: int = setting(
        256,
        "Bézier strokes of a random start",
        low=1,
        cap="strokes",
        group="start",
        metavar="N",
        page="Strokes (random start)",
    )
    min_segments: int = setting(1, "fewest Bézier segments of a random stroke", low=1, high=3, **_START)
    max_segments: int = setting(3, "most Bézier segments of a random stroke", low=1, high=3, **_START)
    steps: int = setting(1000, "optimisation steps", low=1, cap="steps", metavar="N", page="Steps")
    size: int = setting(
        224,
        "canvas size during optimisation",
        unit="px",
        low=16,
        cap="size",
        metavar="PX",
        page="Canvas (px)",
    )
    views: int = setting(4, "augmented views per step", low=1, cap="views", metavar="N", page="Views a step")
    perspective: float = setting(
        0.5, "how far each view's perspective warp may move the corners", low=0.0, high=1.0, flag=None
    )
    crop_scale: tuple[float, float] = setting(
        (0.7, 0.9),
        "the smallest and largest share of the render each view crops",
        low=0.0,
        above=True,
        high=1.0,
        flag=None,
    )
    view_samples: int = setting(
        1,
        "samples a view pixel averages along each side: k × k points of the render, which keeps thin strokes "
        "from falling between a small guide's pixels (1: one point)",
        low=1,
        high=8,
        flag=None,
    )
    color_jitter: float = setting(
        0.0,
        "each view's brightness, contrast and saturation times U[1 - s, 1 + s]",
        low=0.0,
        high=1.0,
        zero="off",
        flag=None,
    )
    lr_points: float = setting(1.0, "Adam rate of the points from random strokes", unit="px", **_RATE)
    lr_widths: float = setting(0.1, "Adam rate of the widths from random strokes", unit="px", **_RATE)
    lr_colors: float = setting(0.01, "Adam rate of the colours from random strokes", **_RATE)
    # the rates of a drawing that starts from an icon (start="icon"): small, or the icon turns back into a tangle
    icon_lr_points: float = setting(0.2, "Adam rate of the points, from an icon", unit="px", **_RATE)
    icon_lr_widths: float = setting(0.0, "Adam rate of the widths, from an icon", unit="px", **_RATE)
    icon_lr_colors: float = setting(0.0, "Adam rate of the colours, from an icon", **_RATE)
    init_radius: float = setting(
        0.1,
        "how far a random stroke's points lie from its first, as a share of the canvas",
        low=0.0,
        **_START,
    )
    init_width: float = setting(
        1.0, "the width of random strokes (and of an icon_pen's lines)", unit="px", **_START
    )
    min_width: float = setting(1.0, "the thinnest a stroke may get", unit="px", low=0.0, above=True, **_START)
    max_width: float = setting(50.0, "the widest a stroke may get", unit="px", **_START)
    init_color: str = setting(
        "random", "the colour of random strokes", choices=("random", "black", "gray"), **_START
    )
    respawn_every: int = setting(
        0,
        "restart the strokes fainter than respawn_alpha every N steps",
        low=0,
        cap="steps",
        zero="never",
        flag=None,
    )
    respawn_alpha: float = setting(
        0.05, "the opacity below which a stroke is restarted", low=0.0, high=1.0, flag=None
    )
    prune: float = setting(
        0.0,
        "at the end, drop the strokes the guide can spare while its score of the "
        "drawing stays within this fraction of the full drawing's",
        low=0.0,
        high=1.0,
        zero="off",
        metavar="TOL",
    )
    background: str = setting(
        "",
        "canvas colour, e.g. #ffffff, or none for a transparent drawing: an SVG without a background, a PNG "
        "with alpha; while optimising, the guide sees it over random colours, and an icon start's setting adds "
        "its strokes, not its colour",
        check=_canvas,
        group="start",
        metavar="COLOUR",
        default_words="white, or the colour of the setting an icon start's prompt names: 'at "
        "night' is dark blue",
    )
    init_svg: str | None = setting(
        None,
        "start from the strokes of an SVG file, which wins over start",
        in_presets=False,
        check=_svg,
        group="start",
        flag="--init",
        metavar="SVG",
        default_words="none",
    )
    # clipart/loop.py: a drawing without a text prompt, or whose prompt no icon fits, starts from random strokes
    start: str = setting(
        "random",
        "start from random strokes (CLIPDraw), or from the bank's icon of what the prompt names; without a text "
        "prompt, or when no icon fits it, from random strokes all the same",
        choices=("random", "icon"),
        group="start",
    )
    icon_pen: str = setting(
        "",
        "redraw an icon start's strokes in this colour at init_width, e.g. #000000; "
        "'': the icon's own colours and widths",
        check=_colour,
        group="start",
        metavar="COLOUR",
    )
    candidates: int = setting(
        1, "optimise K drawings together, keep the best", low=1, cap="candidates", metavar="K"
    )
    seed: int = setting(
        0,
        "random seed: same seed and settings, same SVG",
        in_presets=False,
        low=0,
        high=_SEED_HIGH,
        metavar="N",
        page="Seed",
        page_box=True,
        default_words="0; `clipart draw`: the next seed whose files are not yet in the output folder, "
        "so that a second run makes a new drawing",
        cli_default="the next seed whose files are not yet in the output folder, so that a second run makes "
        "a new drawing",
    )
    device: str = setting(
        "auto",
        "auto (CUDA, then MPS, then CPU), cpu, cuda[:N] or mps; under torchrun auto "
        "and cuda mean cuda:LOCAL_RANK",
        check=_device,
        group="machine",
    )
    threads: int = setting(
        0,
        "CPU threads (the sidecar records the count)",
        in_presets=False,
        low=0,
        high=1024,
        zero="automatic",
        group="machine",
        metavar="N",
        default_words="the cores other work leaves free",
    )
    preview_every: int = setting(10, "a preview image every N steps", low=1, group="machine", flag=None)
    animate: bool = setting(
        False, "keep a frame a preview for an animation", group="machine", given_by="--gif"
    )
    preset: str | None = setting(
        None, "the preset the settings came from", in_presets=False, group="machine", given_by="--preset"
    )

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """Every setting's declaration, by name, in the order of the fields."""
        return {f.name: f.metadata["setting"] for f in dataclasses.fields(cls)}

    @classmethod
    def hints(cls) -> dict[str, Any]:
        """The type each setting takes (``models`` also as spec texts, which validate parses)."""
        return {**typing.get_type_hints(cls), "models": list[ModelSpec | str]}

    def rates(self, from_icon: bool) -> dict[str, float]:
        """The Adam rates of the points, widths and colours: of a start from an icon, or from random strokes."""
        if from_icon:
            return {
                "points": self.icon_lr_points,
                "widths": self.icon_lr_widths,
                "colors": self.icon_lr_colors,
            }
        return {"points": self.lr_points, "widths": self.lr_widths, "colors": self.lr_colors}

    def validate(self, limits: dict[str, int] | None = None) -> DrawConfig:
        """Check every value; raise ConfigError with one clear line on the first bad one. Returns self.

        Each value is checked against its declaration (type, range, choices, cap, its own check), then the few
        rules between settings. ``limits`` lowers caps of :data:`LIMITS` (a face's, such as the web app's);
        model specs given as text are parsed into :class:`~clipart.models.ModelSpec` here.
        """
        hints = self.hints()
        check_fields(self, hints=hints)
        caps = {k: min(v, (limits or {}).get(k, v)) for k, v in LIMITS.items()}
        if not (self.prompts or self.images) or any(not p.strip() for p in self.prompts):
            raise ConfigError('the prompt is empty: give a text such as "a red apple" (or an image prompt)')
        declared = self.settings()
        for name, about in declared.items():
            _check_declared(name, getattr(self, name), about, hints[name], caps)
        if any(not n.strip() for n in self.negatives):
            raise ConfigError("a negative prompt is empty")
        for text in [*self.prompts, *self.negatives]:
            check_text(text, "prompt", caps["prompt_chars"])
        for texts, weights, what in ((self.prompts, self.prompt_weights, "prompt"),
                                     (self.images, self.image_weights, "image prompt"),
                                     (self.negatives, self.negative_weights, "negative prompt")):  # fmt: skip
            if len(weights) != len(texts):
                raise ConfigError(f"give one weight per {what}")
        if self.min_segments > self.max_segments:
            raise ConfigError("segments per stroke must satisfy 1 <= min_segments <= max_segments <= 3")
        if self.crop_scale[0] > self.crop_scale[1]:
            raise ConfigError(f"crop_scale must satisfy 0 < min <= max <= 1, got {self.crop_scale}")
        if self.min_width > self.max_width:
            raise ConfigError("widths must satisfy 0 < min_width <= max_width")
        if not self.min_width <= self.init_width <= self.max_width:
            raise ConfigError("init_width must lie between min_width and max_width")
        for name, about in declared.items():  # the checks that read files or devices, last
            if about.check is not None:
                setattr(self, name, about.check(name, getattr(self, name)))
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every setting (model specs as their text, e.g. ``ViT-B-32::openai``)."""
        return {**dataclasses.asdict(self), "models": [str(m) for m in self.models]}


def _check_declared(name: str, value: Any, about: Setting, hint: Any, caps: dict[str, int]) -> None:
    """``value`` (already of its type) against its declaration: finite, in range, a choice, under its cap."""
    what = about.noun or name
    if about.cap and isinstance(value, list):  # a list's cap counts its items; each item keeps its own range
        if len(value) > caps[about.cap]:
            raise ConfigError(f"give at most {caps[about.cap]} {what}")
        about = dataclasses.replace(about, cap="")
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items if about.choices else []:
        if item not in about.choices:
            raise ConfigError(f"{what} must be {about.values(False)}, got {short(item)}")
    numbers = [v for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not numbers:
        return
    whole = _number_type(hint) is int
    low, high = about.bounds(caps)
    for number in numbers:
        if not math.isfinite(number):
            raise ConfigError(f"{what} must be a finite number, got {short(number)}")
        below = low is not None and (number <= low if about.above else number < low)
        if below or (high is not None and number > high):
            raise ConfigError(f"{what} must be {about.values(whole, caps)}, got {short(number)}")


def _number_type(hint: Any) -> Any:
    """int or float: the number a hint such as ``list[float]`` or ``tuple[float, float]`` holds (else None)."""
    while typing.get_args(hint):
        hint = typing.get_args(hint)[0]
    return hint if hint in (int, float) else None


def settings_table(config: type[DrawConfig] = DrawConfig) -> str:
    """The settings as a Markdown table (docs/reference.md holds it): name, type, default, values, unit, where
    the command line and the web page set it, and what it does. ``python -m clipart.config`` prints it."""
    hints = config.hints()
    rows = [
        "| setting | takes | default | values | `clipart draw` | web page | what |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in dataclasses.fields(config):
        about: Setting = f.metadata["setting"]
        default = about.default_words or ("none" if f.default is dataclasses.MISSING else _words(f.default))
        cli = about.given_by or (
            f"`--set {f.name}=…`"
            if about.flag is None
            else f"`{about.flag or '--' + f.name.replace('_', '-')}`"
        )
        whole = _number_type(hints[f.name]) is int
        values = about.values(whole).removeprefix("a whole number").lstrip(", ")
        unit = f" ({about.unit})" if about.unit else ""
        cells = [
            f"`{f.name}`",
            describe(hints[f.name]),
            default,
            values,
            cli,
            about.page + (" ({:g} to {:g})".format(*about.page_range) if about.page_range else ""),
            f"{about.help}{unit}",
        ]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def _words(value: Any) -> str:
    """A default as the table shows it."""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return "''" if value == "" else str(value)


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


MAX_PRESET_BYTES = 1_000_000  # a preset is a few settings


def _preset_dir() -> Path:
    """The shipped presets: the package ``clipart.presets`` (the top-level ``presets/`` of a checkout)."""
    from importlib.resources import files

    return Path(str(files("clipart.presets")))


def _check_type(name: str, value: Any, where: str) -> Any:
    """``value`` as the setting ``name`` takes it, or ConfigError naming the setting and what it takes."""
    return check_value(name, value, DrawConfig.hints()[name], where)


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
    keys = {name for name, about in DrawConfig.settings().items() if about.in_presets}
    unknown = sorted(set(data) - keys)
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
        if key not in DrawConfig.settings():
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


if __name__ == "__main__":
    print(settings_table())
