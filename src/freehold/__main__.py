"""``python -m freehold`` runs the CLI."""

from freehold.cli.main import main

main()
