"""Operations: probes, metrics, logs, limits and the middleware that applies them.

`install` wires it all into an app; each concern lives in its own module.
"""

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from service.config import Settings
from service.kit.head import HeadAsGetMiddleware
from service.ops import health, metrics
from service.ops.bounds import BodySizeLimitMiddleware, JsonDepthMiddleware, QueryBoundsMiddleware
from service.ops.limits import RateLimitMiddleware, RateLimits
from service.ops.middleware import REQUEST_ID_HEADER, RequestContextMiddleware

GZIP_MINIMUM_BYTES = 1024
CORS_EXPOSED_HEADERS = [
    "ETag", "Link", "Location", "RateLimit", "RateLimit-Policy", "Retry-After", REQUEST_ID_HEADER,
]
CORS_ALLOWED_HEADERS = [
    "Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", REQUEST_ID_HEADER,
]


def install(app: FastAPI, settings: Settings) -> None:
    """Add the probes, /metrics, and the middleware. A request passes, outermost first:
    request context (id, access log, metrics) → HEAD as GET → CORS → gzip → rate limits → query-string
    bounds → body-size limit → JSON depth → the app. Rejections (429, 414, 413, 422) are therefore logged,
    counted, and readable by browsers like any other answer."""
    app.include_router(health.router)
    app.include_router(metrics.router)

    # Each add_middleware wraps the ones added before it: innermost first.
    app.add_middleware(JsonDepthMiddleware, limits=settings.limits)
    app.add_middleware(BodySizeLimitMiddleware, limits=settings.limits, max_feed_bytes=settings.calendar.max_feed_bytes)
    app.add_middleware(QueryBoundsMiddleware, limits=settings.limits)
    app.state.rate_limits = RateLimits(settings.limits, settings.redis_url)
    if app.state.rate_limits.enabled:
        app.add_middleware(RateLimitMiddleware, limits=app.state.rate_limits)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    if settings.cors.allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors.allow_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_ALLOWED_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    # Outside gzip (a HEAD's Content-Length is the compressed GET's), inside the request
    # context (logs and metrics say HEAD).
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(RequestContextMiddleware, router=app.router)
