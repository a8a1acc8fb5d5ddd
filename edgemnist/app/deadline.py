"""A deadline on every request, in uvicorn's own h11 protocol.

uvicorn times out an idle kept-alive connection, but not a connection that opens and sends nothing, nor a request
whose head or body stops halfway: each would hold a descriptor (and a place under the connection cap) for ever.
Here every request must be complete — head and body — within the deadline of its first byte (of the connection's
opening, for its first request). Past it, a client whose request head has arrived gets a 408 JSON answer; the
connection is closed either way.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

TIMEOUT_MESSAGE = "request not complete within {seconds:g} s: send the whole request at once (see --body-timeout)"


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request; ``seconds`` is set by ``with_deadline``.

    It extends only the asyncio Protocol's entry points, and reads uvicorn's h11 connection (``self.conn``)
    through h11's public API: whether a request is complete is ``their_state``; the 408 goes out through h11
    too, so the connection's bytes stay valid HTTP."""

    seconds: float  # the deadline, set by with_deadline (limits.BODY_TIMEOUT_S in edgemnist serve)
    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.start_deadline()  # a connection that never sends a byte is dropped too

    def data_received(self, data: bytes) -> None:
        if self.deadline is None:
            self.start_deadline()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        pipelined = bool(self.conn.trailing_data[0])  # the next request's first bytes, waiting behind this one
        if not self.request_incomplete() and not pipelined:
            self.stop_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_deadline()
        super().connection_lost(exc)

    def start_deadline(self) -> None:
        self.deadline = asyncio.get_running_loop().call_later(self.seconds, self.deadline_passed)

    def stop_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def request_incomplete(self) -> bool:
        return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)

    def deadline_passed(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if not self.request_incomplete():
            self.start_deadline()  # the app is still answering, while a pipelined request waits: look again later
            return
        if self.conn.our_state is h11.SEND_RESPONSE:  # the head is in and the app has not begun its answer
            self.send_timeout_answer()
        self.transport.close()

    def send_timeout_answer(self) -> None:
        body = json.dumps({"error": TIMEOUT_MESSAGE.format(seconds=self.seconds)}).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(body))), ("connection", "close")]
        for event in (h11.Response(status_code=408, headers=headers), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))


def with_deadline(seconds: float) -> type[DeadlineH11Protocol]:
    """The protocol class for uvicorn's ``Config(http=...)``, with this server's deadline."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"seconds": seconds})
