"""uvicorn's HTTP protocol with TCP_NODELAY on every connection.

uvicorn's worker processes (``--workers N``) share a listening socket created without
``IPPROTO_TCP``, so asyncio does not set TCP_NODELAY on the connections they accept; every
response then waits out the client's delayed ACK (40 ms per request instead of 2). This module
is imported only by ``serve``, so that importing the CLI does not import uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """The protocol uvicorn would pick, setting TCP_NODELAY when a connection opens."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
