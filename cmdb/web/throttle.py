"""Failed sign-ins counted per client address: past the allowance, that address waits."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

MAX_CLIENTS = 10_000   # addresses remembered; the least recently failing are forgotten first


class FailureThrottle:
    def __init__(self, allowed: int, window_seconds: float):
        self.allowed = allowed
        self.window = window_seconds
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> int:
        """How long ``client`` must wait before its next attempt (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.allowed:
                return 0
            return max(1, int(times[0] + self.window - now + 0.999))

    def failed(self, client: str) -> int:
        """Record a failure; the failures of ``client`` within the window, this one included."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures[client] = times
            self._failures.move_to_end(client)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)
            return len(times)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
