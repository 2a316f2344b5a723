"""Errors a user can cause. Faces turn them into one line (CLI: exit code 2; web: a message)."""

import importlib.util


class ClipartError(Exception):
    """A problem the user can fix; the message says what to do."""


class ModelError(ClipartError):
    """A guide model could not be found or loaded."""


class ConfigError(ClipartError):
    """An invalid setting, preset or prompt."""


class OutputError(ClipartError):
    """An output file could not be written once the work was done (a full disk, a folder removed or locked)."""


def require_extra(module: str, extra: str, what: str) -> None:
    """Raise ClipartError naming the pip extra to install when ``module`` (needed for ``what``) is missing."""
    if importlib.util.find_spec(module) is None:
        raise ClipartError(
            f"{what} needs the {module} package: pip install 'clipart[{extra}]' (in a checkout: pip install -e '.[{extra}]')"
        )
