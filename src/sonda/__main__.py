"""``python -m sonda``: the same as the ``sonda`` command."""

from sonda.cli import main

main()
