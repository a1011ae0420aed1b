"""Probes for orchestrators: /healthz (the process answers) and /readyz (it can serve).

Liveness never touches the database: a database outage must not get every replica
restarted. Readiness does, with a short time limit, so a replica that cannot reach its
database (or whose database is not migrated for this code) is taken out of rotation.
"""

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import State

from service.errors import ServiceUnavailable
from service.kit.app_state import ReadSessionmakerDep, SessionmakerDep
from service.migrate import is_current_on

READY_TIMEOUT_SECONDS = 2.0
RETRY_AFTER = {"Retry-After": "5"}

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, primary: SessionmakerDep, reads: ReadSessionmakerDep) -> dict[str, str]:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            # The app's state remembers, between probes, that the migrations were current.
            current = await _migrations_current(request.app.state, primary)
            if reads is not primary:
                await _reachable(reads)
    except TimeoutError:
        raise ServiceUnavailable(
            f"The database did not answer within {READY_TIMEOUT_SECONDS:g} s.", headers=RETRY_AFTER
        ) from None
    except (DBAPIError, PoolTimeout, OSError):
        raise ServiceUnavailable("The database is unreachable.", headers=RETRY_AFTER) from None
    if not current:
        raise ServiceUnavailable(
            "The database is not migrated to this version of the service; run `partnerships migrate`.",
            headers=RETRY_AFTER,
        )
    return {"status": "ready"}


async def _migrations_current(state: State, primary: async_sessionmaker[AsyncSession]) -> bool:
    # Once current, a process stays ready: during a rolling deploy the new version migrates
    # ahead of the old replicas, which must keep serving until they are replaced.
    if getattr(state, "migrations_current", False):
        await _reachable(primary)
        return True
    async with primary() as session:
        current = await is_current_on(await session.connection())
    state.migrations_current = current
    return current


async def _reachable(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        await session.execute(text("SELECT 1"))
