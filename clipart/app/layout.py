"""The page: its components and how they are wired to :class:`~clipart.app.handlers.Handlers`.

No ``from __future__ import annotations`` here: Gradio reads the ``gr.Request`` annotation of the event
functions, and ``gr`` is imported inside :func:`build_app`.
"""

import atexit
import dataclasses
import inspect
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import clipart
from clipart.app.handlers import (
    CAPS,
    KEEP_RUNS_S,
    DrawUpdate,
    Handlers,
    control_range,
    page_settings,
    preset_values,
)
from clipart.config import DEFAULT_NEGATIVE_WEIGHT
from clipart.drawing import DEFAULT_KINDS

# The page's draw function takes these values, the settings of page_settings() between the first two groups.
DRAW_FIRST = ("prompt", "negatives", "negative_weight", "preset", "model")
DRAW_THEN = ("seed", "random_seed", "gif", "history", "request")


def _declared(name: str) -> Any:
    """A setting's default, as :class:`clipart.DrawConfig` declares it."""
    return next(f.default for f in dataclasses.fields(clipart.DrawConfig) if f.name == name)


DRAW_OPTIONAL = {  # with a default: optional for API clients
    "image": None,
    "style": None,
    "style_weight": _declared("style_weight"),
}

EXAMPLES = [
    "a horse eating a cupcake",
    "a cat on a chair at night",
    "three red balloons",
    "a monkey riding a horse",
    "two yellow ducks in the rain",
    "a sailboat",
    "a red apple",
]
CSS = "#drawing img { width: 100%; height: 100%; object-fit: contain; }"  # small canvases shown large


def build_app(
    models: Sequence[tuple[str, str]] | None = None,
    default_model: str | None = None,
    *,
    device: str = "auto",
    out_dir: str | Path | None = None,
    max_seconds: float | None = 900.0,
    search_folder: str | Path | None = None,
) -> Any:
    """Build the page as a ``gradio.Blocks`` (not launched, no queue set: :func:`launch` does both).

    ``models``: the guide models offered, as ``(spec, description)`` (default: :func:`clipart.list_models`);
    ``default_model``: the one selected first (default: the first). Each drawing writes its files to a new
    folder under ``out_dir`` (default: a fresh temporary folder). ``max_seconds`` ends a drawing as Stop does.
    The Search tab searches ``search_folder`` when given, else the visitor's own drawings of the session.
    """
    import gradio as gr

    models = list(models) if models is not None else clipart.list_models()
    specs = [spec for spec, _ in models]
    if default_model is not None and default_model not in specs:
        raise clipart.ClipartError(f"default model {default_model!r} is not among the models offered")
    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="clipart-app-"))
        atexit.register(shutil.rmtree, out_dir, ignore_errors=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    handlers = Handlers(specs, device, out_dir, max_seconds, search_folder)
    search_where = f"the folder {search_folder}" if search_folder else "your drawings of this session"
    presets = handlers.presets
    default_preset = clipart.DEFAULT_PRESET if clipart.DEFAULT_PRESET in presets else next(iter(presets))
    start = preset_values(default_preset, specs)

    draw = _draw_function(gr, handlers)
    declared = clipart.DrawConfig.settings()

    def search(query: str, example: str | None, model: str, request: gr.Request) -> list:
        """The files closest to the text (or the picture), best first, as (image, caption) pairs."""
        return handlers.search(request.session_hash, query, example, model)

    def stop(request: gr.Request) -> None:
        """Stop this session's drawing; it keeps the drawing so far."""
        handlers.stop(request.session_hash)

    with gr.Blocks(title="clipart", analytics_enabled=False, delete_cache=(3600, KEEP_RUNS_S)) as demo:
        gr.Markdown(
            "# clipart\nVector art from text: CLIP-guided Bézier strokes, drawn live in your browser."
        )
        if not specs:
            gr.Markdown("**No guide model is installed.** Reinstall clipart to get the embedded model.")
        with gr.Tab("Draw", id="draw-tab"), gr.Row():
            with gr.Column(scale=2):
                prompt = gr.Textbox(
                    label="Prompt", placeholder=EXAMPLES[0], max_length=CAPS["prompt_chars"], elem_id="prompt"
                )
                with gr.Row():
                    draw_btn = gr.Button("Draw", variant="primary", elem_id="draw")
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="stop")
                gr.Examples([[text] for text in EXAMPLES], inputs=[prompt], label="Examples")
                image_prompt = _upload(
                    gr, "Image prompt (optional): draw towards this picture", "image-prompt", 160
                )
                with gr.Row():
                    style_image = _upload(
                        gr, "Style image (optional): its colours and textures", "style-image", 160
                    )
                    style_weight = _control(
                        gr, "style_weight", declared["style_weight"], DRAW_OPTIONAL["style_weight"]
                    )
                preset = gr.Dropdown(
                    [(f"{name}: {text}", name) for name, text in presets.items()],
                    value=default_preset,
                    label="Preset",
                    elem_id="preset",
                )
                model = gr.Dropdown(
                    [(f"{spec}: {text}", spec) for spec, text in models],
                    value=default_model or (specs[0] if specs else None),
                    label="Guide model",
                    elem_id="model",
                )
                with gr.Accordion("Settings", open=True):
                    negatives = gr.Textbox(
                        start["negatives"],
                        label="Negative prompts (one per line; 'text::weight' sets its own weight)",
                        lines=2,
                        elem_id="negatives",
                    )
                    negative_weight = gr.Slider(
                        0, 2, DEFAULT_NEGATIVE_WEIGHT, step=0.05, label="Negative weight"
                    )
                    shown = list(page_settings().items())
                    controls = {}
                    for pair in (shown[i : i + 2] for i in range(0, len(shown), 2)):
                        with gr.Row():
                            controls.update(
                                {name: _control(gr, name, about, start[name]) for name, about in pair}
                            )
                    with gr.Row():
                        seed = _control(gr, "seed", declared["seed"], _declared("seed"))
                        random_seed = gr.Checkbox(False, label="Random seed", elem_id="random-seed")
                        gif = gr.Checkbox(False, label="Progress GIF", elem_id="gif")
            with gr.Column(scale=3):
                image = gr.Image(
                    label="Drawing",
                    type="pil",
                    format="png",
                    interactive=False,
                    height=512,
                    elem_id="drawing",
                )
                status = gr.Markdown("Type a prompt and press **Draw**.", elem_id="status")
                with gr.Row(visible=False) as files_row:
                    downloads = [
                        gr.DownloadButton(f"Download {kind.upper()}", elem_id=f"download-{kind}")
                        for kind in DEFAULT_KINDS
                    ]
                    with gr.Column(visible=False, min_width=120) as gif_box:
                        downloads.append(gr.DownloadButton("Download GIF", elem_id="download-gif"))
                gallery = gr.Gallery(
                    label="Your drawings (this session)",
                    columns=5,
                    fit_columns=False,
                    object_fit="contain",
                    height=260,
                    elem_id="gallery",
                )
        with gr.Tab("Search", id="search-tab"):
            gr.Markdown(f"CLIP search over {search_where}: the files closest to a text or to a picture.")
            with gr.Row():
                search_query = gr.Textbox(label="Search for", placeholder="a red apple", elem_id="search-query",
                                          max_length=CAPS["prompt_chars"], scale=3)  # fmt: skip
                search_image = _upload(gr, "or by example", "search-image", scale=1)
            search_btn = gr.Button("Search", variant="primary", elem_id="search-button")
            search_results = gr.Gallery(label="Closest first", columns=6, object_fit="contain", height=300,
                                        elem_id="search-results")  # fmt: skip
        history = gr.State([])

        inputs = [
            prompt,
            negatives,
            negative_weight,
            preset,
            model,
            *controls.values(),
            seed,
            random_seed,
            gif,
        ]
        inputs += [history, image_prompt, style_image, style_weight]
        files = dict(zip([*DEFAULT_KINDS, "gif"], downloads, strict=True))
        # the outputs in the order DrawUpdate.outputs() gives values: a DrawUpdate holding the components themselves
        outputs = list(DrawUpdate(image, status, files, gallery, history, files_row, gif_box).outputs())
        draw_btn.click(draw, inputs, outputs, api_name="draw", concurrency_id="draw")
        prompt.submit(draw, inputs, outputs, api_visibility="private", concurrency_id="draw")
        stop_btn.click(stop, api_name="stop", queue=False)
        search_btn.click(search, [search_query, search_image, model], [search_results], api_name="search")
        preset.change(
            handlers.preset,
            inputs=[preset],
            outputs=[*controls.values(), negatives, model],
            api_visibility="private",
            queue=False,
        )
    return demo


def _draw_function(gr: Any, handlers: Handlers) -> Callable[..., Iterator[tuple]]:
    """The page's draw function, its parameters named for API clients: :data:`DRAW_FIRST`, the settings of
    :func:`page_settings`, :data:`DRAW_THEN` and :data:`DRAW_OPTIONAL` (Gradio reads the names, and the
    ``gr.Request`` annotation, from its signature)."""
    plain = inspect.Parameter.POSITIONAL_OR_KEYWORD
    names = [*DRAW_FIRST, *page_settings(), *DRAW_THEN]
    signature = inspect.Signature(
        [inspect.Parameter(name, plain) for name in names]
        + [inspect.Parameter(name, plain, default=value) for name, value in DRAW_OPTIONAL.items()]
    )

    def draw(*values: Any) -> Iterator[tuple]:
        """Make a drawing from text, an image prompt or both, with live previews; returns the image, a status
        line and the files."""
        bound = signature.bind(*values)
        bound.apply_defaults()
        page = dict(bound.arguments)
        request, history = page.pop("request"), page.pop("history")
        for update in handlers.draw(request.session_hash, page, history):
            yield update.outputs()

    draw.__signature__ = signature  # type: ignore[attr-defined]
    draw.__annotations__ = {"request": gr.Request}
    return draw


def _control(gr: Any, name: str, about: Any, value: Any) -> Any:
    """The page's control of a setting, showing ``value``: a choice, a tick box, a number (a slider over the
    range the page offers, or a box within it) or a text box."""
    hint, elem_id = clipart.DrawConfig.hints()[name], name.replace("_", "-")
    if about.choices:
        return gr.Dropdown(list(about.choices), value=value, label=about.page, elem_id=elem_id)
    if hint is bool:
        return gr.Checkbox(value, label=about.page, elem_id=elem_id)
    low, high = control_range(about)
    if hint in (int, float) and about.page_box:
        precision = 0 if hint is int else None
        return gr.Number(
            value, label=about.page, precision=precision, minimum=low, maximum=high, elem_id=elem_id
        )
    if hint in (int, float) and low is not None and high is not None:
        step = 1 if hint is int else (high - low) / 100
        return gr.Slider(low, high, value, step=step, label=about.page, elem_id=elem_id)
    return gr.Textbox(value or "", label=about.page, elem_id=elem_id)


def _upload(gr: Any, label: str, elem_id: str, height: int = 120, **options: Any) -> Any:
    """An optional picture the visitor uploads or pastes; the handlers get its file path."""
    return gr.Image(label=label, type="filepath", sources=["upload", "clipboard"], height=height, elem_id=elem_id,
                    **options)  # fmt: skip
