"""What a task needs from the service (sessions, settings, the clock), handed to it by the
worker that runs it through procrastinate's job context."""

from dataclasses import dataclass
from typing import Any

from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.kit.clock import Clock

CONTEXT_KEY = "service"


@dataclass(frozen=True)
class Resources:
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Clock

    def as_context(self) -> dict[str, Any]:
        return {CONTEXT_KEY: self}


def resources(context: JobContext) -> Resources:
    found: Resources = context.additional_context[CONTEXT_KEY]
    return found
