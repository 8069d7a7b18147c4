"""The listening sockets ``cmdb serve`` gives its API workers."""

from __future__ import annotations

import asyncio
import socket

from cmdb.api_workers import listening_sockets


def test_connections_answer_without_waiting_for_the_clients_acknowledgement():
    # Nagle's algorithm off on every accepted connection: otherwise a response written in two
    # parts (head, body) waits for the client's delayed ACK, about 40 ms a request.
    sockets = listening_sockets("127.0.0.1", 0, 1, 16)
    port = sockets[0].getsockname()[1]
    seen: dict[str, int] = {}

    async def main() -> None:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = writer.get_extra_info("socket")
            seen["nodelay"] = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            writer.close()

        server = await asyncio.start_server(accepted, sock=sockets[0])
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reader.read()
            writer.close()

    try:
        asyncio.run(main())
    finally:
        for sock in sockets:
            sock.close()
    assert sockets[0].proto == socket.IPPROTO_TCP
    assert seen == {"nodelay": 1}
