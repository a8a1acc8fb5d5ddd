"""The one exception type for errors a user can cause; the CLI turns it into one line and an exit code."""


class EdgemnistError(Exception):
    """A problem the user can fix: bad path, corrupt file, missing runtime or data.

    ``exit_code`` follows the CLI convention: 1 for a failed check, 2 for bad input or missing data.
    """

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


class ValidationFailed(EdgemnistError):
    """An artifact or candidate model did not meet its accuracy/parity bar."""

    def __init__(self, message: str):
        super().__init__(message, exit_code=1)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: enough to say what went wrong, never a traceback."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
