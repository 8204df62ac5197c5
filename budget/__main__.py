"""`python -m budget` runs the command line (``check "…"`` by its quick path when it can: budget/cli_fast.py)."""

from .cli_fast import main

main()
