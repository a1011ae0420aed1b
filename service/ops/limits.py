"""Rate limits per client, with the `limits` library: in memory, or in Redis to share them.

Two policies: "reads" (GET, HEAD, OPTIONS) and "writes" (everything else), each a number
of requests per client identity per minute, counted under /v1/ only (probes and /metrics
are never limited). Every limited response says where the client stands with
the headers of draft-ietf-httpapi-ratelimit-headers:

    RateLimit-Policy: "reads";q=600;w=60
    RateLimit: "reads";r=599;t=42

and a request over the limit answers 429 problem+json with Retry-After.

A third policy, "auth-failures", counts refused credentials (401 to a request that sent an
Authorization header) per client address. Clients are otherwise told apart by their
credentials, so each forged token would be a new client, never limited, each costing a key
lookup; once an address is over this limit, requests from it that carry credentials answer
429 before anything looks at them. Requests without credentials are not affected.

When the counter storage fails (Redis down), requests are served unlimited and a warning is
logged: an outage of the limiter must not become an outage of the API.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import cached_property

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import LimitSettings
from service.errors import TooManyRequests
from service.ops import metrics
from service.ops.bounds import send_problem
from service.ops.identity import client_address, client_identity

log = logging.getLogger(__name__)

# Safe methods count as reads (OPTIONS too: CORS preflights are answered before counting).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LIMITED_PREFIX = "/v1/"
STRATEGIES: dict[str, type[RateLimiter]] = {
    "moving-window": MovingWindowRateLimiter,
    "fixed-window": FixedWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}
# A limiter check must cost the request little even when Redis hangs: short socket
# timeouts, no retries, and after a failure Redis is left alone for a while.
REDIS_TIMEOUT_SECONDS = 0.25
STORAGE_BACKOFF_SECONDS = 5.0
WARNING_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Policy:
    name: str
    item: RateLimitItem

    @cached_property  # the same for every response
    def header(self) -> str:
        return f'"{self.name}";q={self.item.amount};w={self.item.get_expiry()}'


@dataclass(frozen=True)
class Decision:
    policy: Policy
    allowed: bool
    remaining: int
    reset_after: int  # seconds until the window frees capacity

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Policy": self.policy.header,
            "RateLimit": f'"{self.policy.name}";r={self.remaining};t={self.reset_after}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_after))
        return headers

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI response carries them (latin-1 bytes)."""
        return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers().items()]


def _policy(name: str, per_minute: int) -> Policy | None:
    return Policy(name, RateLimitItemPerMinute(per_minute)) if per_minute else None  # 0 disables


def _redis_storage(url: str) -> Storage:
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    scheme = "async+redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else f"async+{url}"
    return RedisStorage(
        scheme,
        implementation="redispy",
        wrap_exceptions=True,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        # limits annotates its storage options as scalars, but hands them to redis-py as they are.
        retry=Retry(NoBackoff(), 0),  # type: ignore[arg-type]
    )


class RateLimits:
    """The policies and their counters. Storage is created on first use, inside the event
    loop that will use it."""

    def __init__(self, settings: LimitSettings, redis_url: str | None = None) -> None:
        self.settings = settings
        self.redis_url = redis_url
        self.reads = _policy("reads", settings.reads_per_minute)
        self.writes = _policy("writes", settings.writes_per_minute)
        self.auth_failures = _policy("auth-failures", settings.auth_failures_per_minute)
        self._limiter: RateLimiter | None = None
        self._skip_until = 0.0
        self._last_warning = -math.inf

    @property
    def enabled(self) -> bool:
        return bool(self.reads or self.writes or self.auth_failures)

    def policy_for(self, method: str) -> Policy | None:
        return self.reads if method in READ_METHODS else self.writes

    def _get_limiter(self) -> RateLimiter:
        if self._limiter is None:
            storage = _redis_storage(self.redis_url) if self.redis_url else MemoryStorage()
            self._limiter = STRATEGIES[self.settings.strategy](storage)
        return self._limiter

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        """Count one request; None when the storage failed and the request goes unlimited."""
        return await self._decide(policy, identity, count=True)

    async def standing(self, policy: Policy, identity: str) -> Decision | None:
        """Whether one more would be allowed, counting nothing."""
        return await self._decide(policy, identity, count=False)

    async def _decide(self, policy: Policy, identity: str, count: bool) -> Decision | None:
        if time.monotonic() < self._skip_until:
            return None
        limiter = self._get_limiter()
        try:
            if count:
                allowed = await limiter.hit(policy.item, policy.name, identity)
            else:
                allowed = await limiter.test(policy.item, policy.name, identity)
            stats = await limiter.get_window_stats(policy.item, policy.name, identity)
        except Exception as exc:  # StorageError, timeouts, anything: fail open
            self._storage_failed(exc)
            return None
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return Decision(policy, allowed, max(0, stats.remaining), reset_after)

    def _storage_failed(self, exc: BaseException) -> None:
        metrics.RATE_LIMIT_STORAGE_ERRORS.inc()
        self._skip_until = time.monotonic() + STORAGE_BACKOFF_SECONDS
        now = time.monotonic()
        if now - self._last_warning >= WARNING_INTERVAL_SECONDS:
            self._last_warning = now
            log.warning(
                "rate-limit storage failed (%s: %s); serving without limits for now",
                type(exc).__name__, exc,
            )


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        policy = self.limits.policy_for(scope["method"])
        sends_credentials = any(name == b"authorization" for name, _ in scope["headers"])
        guard = self.limits.auth_failures if sends_credentials else None
        address = client_address(scope)
        if guard is not None:
            standing = await self.limits.standing(guard, address)
            if standing is not None and not standing.allowed:
                return await self._refuse(scope, receive, send, standing,
                                          f"More than {guard.item.amount} refused credentials per minute from this address")
        headers: list[tuple[bytes, bytes]] = []
        if policy is not None:
            decision = await self.limits.hit(policy, (await client_identity(scope)).key)
            if decision is not None:
                headers = decision.raw_headers()
                if not decision.allowed:
                    return await self._refuse(scope, receive, send, decision,
                                              f"More than {policy.item.amount} {policy.name} per minute")
        status = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Appended as they are: nothing inside sets these headers.
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if guard is not None and status == 401:
            await self.limits.hit(guard, address)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, decision: Decision, reason: str) -> None:
        headers = decision.headers()
        error = TooManyRequests(f"{reason}; retry after {headers['Retry-After']} s.", headers=headers)
        await send_problem(scope, receive, send, error)
