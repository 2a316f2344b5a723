"""``python -m clipart`` (and ``torchrun -m clipart train ...``) runs the CLI."""

from clipart.cli import main

raise SystemExit(main())
