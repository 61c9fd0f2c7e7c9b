"""``python -m textmine`` runs the CLI."""
from textmine.cli import main

main()
