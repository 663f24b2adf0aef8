"""Per-client request rate and bearer-token back-off of the HTTP service (in process, no extra service).

* **Rate**: at most ``requests_per_minute`` requests per client address in any 60-second window
  (``/v1/health`` is never limited); more get 429 with ``Retry-After``.
* **Token guessing**: every request with a missing, unknown or revoked token counts against its client;
  from the ``free_failures``-th failure on the client is locked for ``base_s * 2**(n - free_failures)``
  seconds (at most ``max_s``), during which every request of that client -- even with a valid token -- gets
  429. A request with a valid token resets the count.

The state is per process (one ``recommender serve`` process; put a shared limiter in the proxy when
running several). At most ``max_clients`` addresses are tracked; the least recently seen are forgotten first.

Examples
--------
>>> lim = ClientLimiter(clock=lambda: 0.0, free_failures=2)
>>> lim.failure("c"), lim.failure("c"), lim.locked("c")
(0.0, 1.0, 1.0)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ClientLimiter"]


@dataclass
class _Client:
    hits: deque[float] = field(default_factory=deque)
    failures: int = 0
    locked_until: float = 0.0


class ClientLimiter:
    """Request-rate limit and token back-off per client address (thread-safe)."""

    def __init__(self, *, requests_per_minute: int = 120, free_failures: int = 5, base_s: float = 1.0,
                 max_s: float = 900.0, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.requests_per_minute = requests_per_minute
        self.free_failures, self.base_s, self.max_s = free_failures, base_s, max_s
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, client: str) -> _Client:
        c = self._clients.get(client)
        if c is None:
            c = self._clients[client] = _Client()
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(client)
        return c

    def hit(self, client: str) -> float:
        """Count one request; the seconds to wait when over the rate (0: allowed)."""
        now = self._clock()
        with self._lock:
            c = self._get(client)
            while c.hits and c.hits[0] <= now - 60.0:
                c.hits.popleft()
            if len(c.hits) >= self.requests_per_minute:
                return max(0.001, c.hits[0] + 60.0 - now)
            c.hits.append(now)
            return 0.0

    def locked(self, client: str) -> float:
        """Seconds the client stays locked after failed tokens (0: not locked)."""
        now = self._clock()
        with self._lock:
            c = self._clients.get(client)
            return 0.0 if c is None else max(0.0, c.locked_until - now)

    def failure(self, client: str) -> float:
        """Count a failed token; returns the lock it caused (seconds, 0 before ``free_failures``)."""
        now = self._clock()
        with self._lock:
            c = self._get(client)
            c.failures += 1
            if c.failures < self.free_failures:
                return 0.0
            wait = min(self.max_s, self.base_s * 2.0 ** min(c.failures - self.free_failures, 40))
            c.locked_until = now + wait
            return wait

    def success(self, client: str) -> None:
        """A valid token: forget the client's failures."""
        with self._lock:
            c = self._clients.get(client)
            if c is not None:
                c.failures, c.locked_until = 0, 0.0
