"""Slowing down password guessing: failed sign-ins are counted per client address and per
e-mail over a sliding window; past the limit, sign-in answers 429 until the window moves on.

Kept in the process's memory: one server process is what `vigil serve` runs. Several processes
behind a balancer would each count their own share (a shared counter would go in Redis).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class FailureLimiter:
    def __init__(self, limit: int = 10, window_s: float = 600.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> int:
        """Seconds until any of `keys` may try again; 0 when none is over the limit."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.limit:
                    wait = max(wait, failures[0] + self.window_s - now)
                if not failures:
                    self._failures.pop(key, None)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
