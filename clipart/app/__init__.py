"""The web app: a Gradio page over clipart's public API (``clipart serve`` or ``python app.py``).

    handlers.py   what the page's events run (a drawing streamed, Stop, a preset), the visitor caps
    layout.py     the page (components and their wiring): :func:`build_app`
    server.py     :func:`launch`: queue, port, one-line logs, clean-up

Type a prompt, watch the strokes move, download the SVG. Nothing here optimises anything: the page consumes
:func:`clipart.steps` events like every other face. Gradio is imported inside functions, so importing this
package stays instant.
"""

from clipart.app.layout import build_app
from clipart.app.server import launch

__all__ = ["build_app", "launch"]
