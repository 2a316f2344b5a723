"""Start the clipart web app: ``python app.py [--host H] [--port P]`` (the same as ``clipart serve``)."""

from clipart.cli.serve import main

if __name__ == "__main__":
    raise SystemExit(main())
