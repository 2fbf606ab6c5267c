"""Per-user request rate limit: a token bucket per user in each server process.

Each user may make `api_rate_per_minute` requests a minute on average, in bursts of up to
`api_rate_burst`. Buckets live in the process's memory (no database write per request): with W
server processes a user can reach at most W times the rate, which the README states.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from threading import Lock

from gridcare.errors import TooManyAttempts


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, *, clock: object = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = Lock()

    def hit(self, key: int) -> None:
        """Take one request from `key`'s bucket, or refuse with 429 and when to try again."""
        if self.rate <= 0:
            return
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                if len(self._buckets) > 50_000:  # forget idle users now and then
                    self._forget(now)
                return
            wait = math.ceil((1 - bucket.tokens) / self.rate)
        raise TooManyAttempts(f"请求过于频繁，请 {wait} 秒后再试", retry_after=wait)

    def _forget(self, now: float) -> None:
        full = self.burst / self.rate if self.rate else 0
        for key in [k for k, b in self._buckets.items() if now - b.at > full]:
            del self._buckets[key]
