"""The SSH board fixtures (a real sshd on 127.0.0.1 and board venvs), shared by the remote-bench tests."""

from .ssh_board import bare_python, board_python, sshd  # noqa: F401  (session fixtures, found by pytest here)
