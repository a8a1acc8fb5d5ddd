"""The limits of a server that may face a network, and the uvicorn configuration that applies them.

Light on purpose (uvicorn is imported when a server is made): ``edgemnist serve --help`` shows these defaults.
"""

from __future__ import annotations

import warnings

BODY_TIMEOUT_S = 10.0  # a 10 MiB photo needs about 8 Mbit/s to arrive in time: a phone on Wi-Fi, not on 3G
MAX_CONNECTIONS = 100  # each open connection may hold an upload of up to 10 MiB: about 1 GiB in all, for a Pi
COLLECT_MAX_BYTES = 2**30  # some 300 phone photos with their digits, or 100,000 canvas drawings
COLLECT_PER_MINUTE = 20  # saves per client address: a person correcting digits, not a script


def server_config(app, body_timeout: float = BODY_TIMEOUT_S, max_connections: int = MAX_CONNECTIONS):
    """The uvicorn configuration of ``edgemnist serve`` (and of the tests' real server).

    The cap is uvicorn's own ``limit_concurrency``: a request that arrives while the cap's worth of connections are
    open is answered 503 (plain text, ``Connection: close``) without reaching the app. uvicorn counts the newcomer
    among the open connections, so its limit is one above the connections served."""
    import uvicorn

    return uvicorn.Config(
        app,
        http=http_protocol(body_timeout),
        limit_concurrency=max_connections + 1,
        log_level="warning",
        access_log=False,
    )


def http_protocol(body_timeout: float):
    """uvicorn's h11 protocol with a deadline on each request (deadline.py), for ``Config(http=...)``.

    deadline.py subclasses a uvicorn module that is not its documented API. A uvicorn that moved it still serves,
    on its plain ``"h11"``, with a warning that a stalled request is then held until its client gives up."""
    try:
        from .deadline import with_deadline
    except ImportError as exc:
        warnings.warn(
            f"requests are not cut at the {body_timeout:g} s deadline (--body-timeout): this uvicorn has no "
            f"h11 protocol to extend ({exc}); stalled requests are held until their clients close them",
            RuntimeWarning,
            stacklevel=3,
        )
        return "h11"
    return with_deadline(body_timeout)
