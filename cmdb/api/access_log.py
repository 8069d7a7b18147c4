"""One line per request: worker pid, method, path, status, milliseconds.

Cheaper than uvicorn's access log (no client address lookup, no colour formatting, one
``perf_counter`` pair); the pid says which ``cmdb serve`` worker answered.
"""

from __future__ import annotations

import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cmdb.access")


class AccessLog:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.pid = os.getpid()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            log.info("%d %s %s %d %.1fms", self.pid, scope["method"], scope["path"], status,
                     (time.perf_counter() - started) * 1000)
