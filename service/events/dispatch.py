"""Hands settled events, in feed order, to whatever consumes them (webhook deliveries,
saved-search alerts); the consumers are registered by the task queue's composition root."""

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.events import repository
from service.models import Event

log = logging.getLogger(__name__)

Consumer = Callable[[AsyncSession, list[Event]], Awaitable[None]]
CONSUMER = "dispatch"
BATCH = 500

consumers: list[Consumer] = []


async def dispatch(sessionmaker: async_sessionmaker[AsyncSession], batch: int = BATCH) -> int:
    """Feed every settled event not yet dispatched to each consumer, a batch per transaction:
    the position moves in the transaction that did the consumers' work, so a batch is handed
    on once (a crash mid-batch leaves the position where it was). Returns events dispatched."""
    done = 0
    while True:
        async with sessionmaker() as session:
            txid, event_id = await repository.claim_position(session, CONSUMER)
            events = await repository.settled_after(session, txid, event_id, batch)
            if not events:
                await session.rollback()
                return done
            for consumer in consumers:
                await consumer(session, events)
            await repository.move_position(session, CONSUMER, events[-1].txid, events[-1].id)
            await session.commit()
        done += len(events)
