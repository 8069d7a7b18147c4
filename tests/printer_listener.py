"""A stand-in Zebra printer: a raw TCP listener on loopback that keeps every byte it receives."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Iterator


@contextlib.contextmanager
def raw_printer_port() -> Iterator[tuple[str, bytearray]]:
    """Yields (``tcp://127.0.0.1:PORT``, the bytes received so far); on exit waits for the sender."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = bytearray()

    def accept() -> None:
        connection, _ = server.accept()
        with connection:
            while chunk := connection.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}", received
        thread.join(10)
    finally:
        server.close()
