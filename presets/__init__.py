"""clipart's named settings (TOML files), installed as the package ``clipart.presets`` (see pyproject.toml)."""
