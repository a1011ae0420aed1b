"""The application factory."""

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import __version__, docs, openapi, ops
from service.access.idempotency import IdempotencyMiddleware
from service.access.principal import read_access
from service.access.router import router as access_router
from service.agreements.router import router as agreements_router
from service.bulk.delivery import ExportLimits
from service.bulk.router import router as bulk_router
from service.calendar.router import feeds as calendar_feeds
from service.calendar.router import sources as calendar_sources
from service.clusters.router import router as clusters_router
from service.config import Settings, get_settings
from service.db import AnonymousShare, create_engine, create_sessionmaker, database_url, to_asyncpg_url
from service.events.router import router as events_router
from service.interests.router import router as interests_router
from service.kit import language_detection
from service.kit.clock import Clock
from service.kit.cursor_key import cursor_signing
from service.markets.router import router as markets_router
from service.matching.router import router as matching_router
from service.meetings.router import feeds as agenda_feeds
from service.meetings.router import partnerships as partnership_funnels
from service.meetings.router import router as meetings_router
from service.missions.router import router as missions_router
from service.opportunities.router import router as opportunities_router
from service.ops import dispatch
from service.ops.error_handlers import register_error_handlers
from service.ops.metrics import watch_pool
from service.partnerships.router import router as partnerships_router
from service.saved_searches.router import router as saved_searches_router
from service.sectors.router import router as sectors_router
from service.tasks.runtime import Resources
from service.tasks.worker import run_worker
from service.webhooks.router import router as webhooks_router

DESCRIPTION = """\
Cluster organisations, the European Strategic Cluster Partnerships they form, the
third-country markets they target, and the opportunities abroad they can act on.

Conventions: JSON bodies; errors as `application/problem+json` (RFC 9457); lists as
`{"items": [...], "next_cursor": ...}` with keyset paging; `ETag` on reads, `If-Match` on
writes (412 when stale), `If-None-Match` on reads (304); PATCH merges top-level fields.
`HEAD` is served wherever `GET` is (same status and headers, no body), though not listed
as an operation of its own. No text may contain a NUL character (U+0000): PostgreSQL cannot
store one, so such a value answers 422.
"""

def operation_id(route: APIRoute) -> str:
    # Handler names are unique and stable (list_clusters, get_cluster, ...): clients
    # generated from the OpenAPI document keep their method names across releases.
    return route.name


V1_ROUTERS = (
    access_router, clusters_router, partnerships_router, sectors_router, markets_router,
    calendar_feeds,  # before missions: /missions/{id}.ics must win over /missions/{id}
    missions_router, agreements_router, calendar_sources, opportunities_router, interests_router, matching_router,
    bulk_router, events_router, webhooks_router, saved_searches_router, meetings_router, partnership_funnels,
)


def _in_process_worker(url: URL, app: FastAPI, settings: Settings) -> asyncio.Task[None] | None:
    """The task worker `partnerships serve` runs beside the API, so that one process does
    everything on a single machine (TASKS__IN_PROCESS_WORKER turns it off)."""
    if not settings.tasks.in_process_worker:
        return None
    service = Resources(app.state.sessionmaker, settings, app.state.clock)
    return asyncio.create_task(
        run_worker(url, service, settings.tasks.concurrency, install_signal_handlers=False), name="task worker"
    )


def _lifespan(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession] | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the engines (unless a test passed its own sessionmaker), disposed at the end."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if sessionmaker is not None:
            yield
            return
        url = database_url(settings)
        engine = create_engine(url, settings)
        app.state.engine = engine
        app.state.sessionmaker = app.state.read_sessionmaker = create_sessionmaker(engine, settings)
        watch_pool("primary", engine)
        replica = None
        if settings.database_replica_url:
            replica = create_engine(to_asyncpg_url(settings.database_replica_url), settings)
            app.state.read_sessionmaker = create_sessionmaker(replica, settings)
            watch_pool("replica", replica)
        # The language models, read before the first write needs them (about half a second).
        await asyncio.to_thread(language_detection.preload)
        # Everything built so far (routes, schemas, caches) lives as long as the process:
        # freeze it out of the collector's way, or each full collection walks it all and
        # stalls every request in flight; and collect young objects per few requests rather
        # than several times in each. Measured on the search benchmark: p99 of a read from
        # about 100 ms to 10-20 ms, and 10-50% more requests per second.
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        worker = _in_process_worker(url, app, settings)
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
            await engine.dispose()
            if replica is not None:
                await replica.dispose()

    return lifespan


def create_app(
    settings: Settings | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own sessionmaker (bound to a rolled-back transaction);
    otherwise the lifespan connects to DATABASE_URL or the embedded PostgreSQL."""
    settings = settings or get_settings()

    app = FastAPI(
        title="Partnership Opportunity API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, sessionmaker),
        generate_unique_id_function=operation_id,
        # Both would load their scripts from a CDN; /docs is served by docs.install below.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = Clock()
    app.state.anonymous_share = AnonymousShare(settings.db)
    app.state.export_limits = ExportLimits(settings.bulk)
    secret = settings.cursors.secret
    app.state.cursor_key = secret.get_secret_value().encode() if secret else None  # None: read from the database
    if sessionmaker is not None:
        app.state.sessionmaker = app.state.read_sessionmaker = sessionmaker
    register_error_handlers(app)
    # One level of routers: each extra level costs every request a walk.
    for router in V1_ROUTERS:
        app.include_router(router, prefix="/v1", dependencies=[Depends(read_access), Depends(cursor_signing)])
    # Calendar apps send no Authorization header: the agenda feed's token is its only key.
    app.include_router(agenda_feeds, prefix="/v1")
    # Innermost of the middlewares: size bounds and rate limits (ops) apply first.
    app.add_middleware(IdempotencyMiddleware)
    ops.install(app, settings)
    openapi.install(app)
    docs.install(app)
    dispatch.install(app.router)
    return app
