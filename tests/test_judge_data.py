"""The honest judge's data (recipes/judge.py): no set the icon bank ships, no near copy of one, and no set the guide
trains on, so that neither a drawing that starts from a bank icon nor one the guide pulls towards its own training
pictures is something the judge has seen."""

from __future__ import annotations

import iconbank
import icondata  # recipes/ is on sys.path through conftest
import judge


def test_the_judge_never_trains_on_the_bank_or_its_near_copies() -> None:
    bank = set(iconbank.SETS) | {copy for copies in judge.NEAR_COPIES.values() for copy in copies}
    assert set(judge.NEAR_COPIES) <= set(iconbank.SETS)
    assert not bank & set(judge.ROLES)


def test_the_judge_never_trains_on_the_guides_training_sets() -> None:
    guide = {prefix for prefix, role in icondata.ROLES.items() if role != "held-out"}
    assert not guide & set(judge.ROLES)


def test_the_judge_still_learns_pictures_and_line_icons() -> None:
    roles = set(judge.ROLES.values())
    assert roles == {"pictorial", "line"}
    assert {"twemoji", "emojione", "emojione-monotone"} <= {
        p for p, r in judge.ROLES.items() if r == "pictorial"
    }
