"""A token bucket per client address, for the portal's endpoints that make the server act for a patient
(relaying a signed consent, forwarding a signed request to a hospital's record gateway).

Each address holds up to `burst` tokens, refilled at `rate` per second; a request takes one, or is refused
with the seconds until the next token. The table of addresses is bounded (`max_clients`): when it is full,
buckets that have refilled completely (clients that went quiet) are forgotten first, then the oldest.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RateLimit"]


@dataclass
class RateLimit:
    """`burst` requests at once, then `rate` per second, per client address."""

    burst: int
    rate: float
    max_clients: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.burst < 1 or self.rate <= 0:
            raise ValueError(f"a rate limit needs burst >= 1 and rate > 0, got {self.burst}, {self.rate}")

    def take(self, client: str) -> float | None:
        """None when `client` may go ahead (one token taken), else the seconds until it may try again."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._trim(now)
                return None
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def describe(self) -> str:
        per_minute = self.rate * 60
        return f"{self.burst} at once, then {per_minute:g} a minute"

    def _trim(self, now: float) -> None:
        if len(self._buckets) <= self.max_clients:
            return
        full = [
            k
            for k, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for key in full[: len(self._buckets) - self.max_clients]:
            del self._buckets[key]
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
