"""The drawing loss: a weighted sum of terms, one class each, built from the settings.

A term (:class:`Term`) turns a :class:`Views` batch (the augmented views and the clean renders of every drawing
being optimised) into a loss per drawing. :func:`build_objective` asks every term class for an instance from
the config and the loaded guides; the loop only calls the resulting :class:`Objective`. Adding a term means one
new module here with one :class:`Term` subclass (found automatically), one config field, and its test.
"""

from clipart.objective.base import Objective, Term, Views, build_objective, term_classes

__all__ = ["Objective", "Term", "Views", "build_objective", "term_classes"]
