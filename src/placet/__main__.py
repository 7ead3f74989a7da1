"""``python -m placet`` runs the command line."""

from placet.cli import main

main()
