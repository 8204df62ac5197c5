"""`python -m budget` runs the command line."""

from .cli import main

main()
