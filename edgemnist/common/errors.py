"""The one exception type for errors a user can cause; the CLI turns it into one line and an exit code."""

# Exit codes of every command: scripts and CI can tell a failed check from a typo from a bug.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a model failed validation or parity, a bench row errored
EXIT_BAD_INPUT = 2  # a bad path, option, file or missing data/runtime: the user can fix it
EXIT_INTERNAL = 3  # a bug in edgemnist: the message says how to see the traceback


class EdgemnistError(Exception):
    """A problem the user can fix: bad path, corrupt file, missing runtime or data.

    ``exit_code`` follows the CLI convention: 1 for a failed check, 2 for bad input or missing data.
    """

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code


class ValidationFailed(EdgemnistError):
    """An artifact or candidate model did not meet its accuracy/parity bar."""

    def __init__(self, message: str):
        super().__init__(message, exit_code=EXIT_CHECK_FAILED)


MAX_LINE = 200  # characters of a foreign exception's message kept in our one-line errors


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message: enough to say what went wrong, never a traceback."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    if len(line) <= MAX_LINE:
        return line
    return line[: MAX_LINE + 1].rsplit(" ", 1)[0].rstrip(" ,;:(") + " …"  # at a word's end, and visibly cut
