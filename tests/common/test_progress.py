"""Progress: live bars with counts and time left on a terminal; messages only elsewhere; nothing when quiet."""

import io

from edgemnist.common.progress import SILENT, TerminalProgress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(progress):
    progress.say("stage one")
    with progress.bar("validating", 10_000) as advance:
        for _ in range(10):
            advance(1000)
    progress.indented().say("a step of the stage")


def test_a_terminal_gets_a_live_bar_with_counts():
    stream = Terminal()
    run(TerminalProgress(stream=stream))
    text = stream.getvalue()
    assert "stage one" in text and "    a step of the stage" in text
    assert "validating" in text and "10000/10000" in text


def test_a_pipe_gets_messages_but_no_bar():
    stream = io.StringIO()
    run(TerminalProgress(stream=stream))
    assert stream.getvalue() == "stage one\n    a step of the stage\n"


def test_quiet_and_the_library_default_say_nothing():
    stream = Terminal()
    run(TerminalProgress(quiet=True, stream=stream))
    run(SILENT)
    assert stream.getvalue() == ""
