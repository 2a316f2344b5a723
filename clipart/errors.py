"""Errors a user can cause. Faces turn them into one line (CLI: exit code 2; web: a message)."""


class ClipartError(Exception):
    """A problem the user can fix; the message says what to do."""


class ModelError(ClipartError):
    """A guide model could not be found or loaded."""


class ConfigError(ClipartError):
    """An invalid setting, preset or prompt."""
