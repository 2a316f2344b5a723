"""Caption variants: the ways people write a prompt (capitals, full stops, exclamation marks, articles, style
words), so that a text tower trained on tidy captions does not pull "A lighthouse." towards something else.

Every variant stays true of the picture: no plural (a plural says "several"), no medium that the picture may not
have ("a photo of"); only wording and punctuation change.
"""

from __future__ import annotations

import random
import re

ENDINGS = (".", ".", "!", "!!", "...", "?", ",", ";")
STYLE_SUFFIXES = (", digital art", ", clip art", ", vector art", ", illustration", ", an illustration", " icon",
                  ", simple drawing", ", clipart", ", art")  # fmt: skip
_ARTICLE = re.compile(r"^(a|an|the)\s+", re.IGNORECASE)


def vary_caption(caption: str, rng: random.Random) -> str:
    """One written variant of ``caption``: each change (article, style word, capitals, ending) on a coin toss."""
    text = caption.strip()
    if not text:
        return caption
    if rng.random() < 0.3:
        match = _ARTICLE.match(text)
        if match:  # drop the article, or say "the"
            text = text[match.end() :] if rng.random() < 0.5 else "the " + text[match.end() :]
        else:
            text = ("an " if text[0].lower() in "aeiou" else "a ") + text
    if rng.random() < 0.25:
        text += rng.choice(STYLE_SUFFIXES)
    roll = rng.random()
    if roll < 0.4:
        text = text[0].upper() + text[1:]
    elif roll < 0.5:
        text = text.title()
    elif roll < 0.55:
        text = text.upper()
    if rng.random() < 0.7:
        text += rng.choice(ENDINGS)
    return text


def punctuated_templates(templates: list[str]) -> dict[str, list[str]]:
    """The other ways a zero-shot evaluation writes its templates: with a full stop, and as a capitalised
    exclamation (``{}`` stays where the class name goes; a template's own end mark is replaced)."""

    def capitalised(template: str) -> str:
        return template[0].upper() + template[1:] if not template.startswith("{}") else template

    bare = [t.rstrip(".!?;, ") for t in templates]  # "a photo of a {}." ends once, not twice
    return {
        "full_stop": [t + "." for t in bare],
        "exclaimed": [capitalised(t) + "!" for t in bare],
    }
