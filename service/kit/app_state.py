"""Dependencies for what the app holds for its whole life (settings, the primary's
sessionmaker): routers declare them instead of reaching into `request.app.state`, so a handler's
signature says what it uses.

Every dependency is `async def`, however little it does: FastAPI runs a plain `def` one on a
worker thread, a hop to another thread and back on every request (tests/ops/test_dependencies.py)."""

from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings


async def app_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)  # set by main.create_app


async def primary_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """Sessions of their own on the primary, for work that outlives or runs beside the request's
    session (background jobs, streamed exports)."""
    return cast(async_sessionmaker[AsyncSession], request.app.state.sessionmaker)


async def read_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """The replica's sessionmaker, or the primary's when no replica is configured."""
    return cast(async_sessionmaker[AsyncSession], request.app.state.read_sessionmaker)


SettingsDep = Annotated[Settings, Depends(app_settings)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(primary_sessionmaker)]
ReadSessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(read_sessionmaker)]
