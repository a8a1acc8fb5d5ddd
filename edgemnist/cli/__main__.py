"""``python -m edgemnist.cli``: the same as the ``edgemnist`` command."""

from . import main

main()
