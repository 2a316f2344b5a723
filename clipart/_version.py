"""clipart's version: a leaf module that every other module (and pyproject.toml) may read."""

__version__ = "0.1.0"
