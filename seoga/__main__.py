"""`python -m seoga` runs the CLI."""

from seoga.cli import main

main()
