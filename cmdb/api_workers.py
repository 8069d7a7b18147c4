"""uvicorn's worker supervisor with a listening socket per worker (``SO_REUSEPORT``).

With one shared listening socket, the first worker to wake accepts a whole burst of
connections (asyncio accepts up to the backlog per wake-up): measured, 50 simultaneous
keep-alive clients all landed on one of two workers and stayed there. With a socket per worker
bound with ``SO_REUSEPORT``, the kernel spreads connections over the workers by their addresses.
The sockets stay open in the supervisor, so connections queued on a worker that dies wait for
its replacement instead of being refused.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

logger = logging.getLogger("uvicorn.error")


def listening_sockets(host: str, port: int, count: int, backlog: int) -> list[socket.socket]:
    """``count`` sockets listening on ``host:port``; port 0 is a free port the system chooses.

    ``SO_REUSEPORT`` would let them share a port another process of the same user listens on
    with it (another ``cmdb serve``), each then getting part of the connections. So a socket
    without it takes the port first: that bind fails if anyone listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]
    sockets = []
    try:
        for _ in range(count):
            # Created as TCP explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
            # connections whose socket says IPPROTO_TCP, and a response written in two parts
            # (head, body) otherwise waits ~40 ms for the client's delayed ACK.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class Worker(Process):
    """uvicorn's worker process, which also stops when its supervisor is gone: ``cmdb serve``
    killed outright would otherwise leave its workers serving on, holding the port."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # in the worker
        threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), name="supervisor-watch",
                         daemon=True).start()
        super().target(sockets)


def _stop_when_orphaned(supervisor: int) -> None:
    while os.getppid() == supervisor:
        time.sleep(0.5)
    logger.warning("The supervisor (process %s) is gone; stopping this worker.", supervisor)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful stop


class WorkerPerSocket(Multiprocess):
    """``Multiprocess`` giving worker *i* only ``sockets[i]``; otherwise uvicorn's behaviour."""

    def init_processes(self) -> None:
        for sock in self.sockets:
            process = Worker(self.config, [sock])
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        # uvicorn's own loop, except that a replacement gets the socket of the worker it replaces.
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"Child process [{process.pid}] failed to start, stopping the parent process.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.warning(f"Child process [{process.pid}] died (exit status {process.exitcode}); "
                           "starting a replacement")
            replacement = Worker(self.config, [self.sockets[idx]])
            replacement.start()
            self.processes[idx] = replacement

    def handle_hup(self) -> None:
        logger.info("Received SIGHUP; restarting the workers one after the other.")
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = Worker(self.config, [self.sockets[idx]])
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                return
            old.terminate()
            old.join()
            self.processes[idx] = new
