"""Expired idempotency answers are deleted here: those of POSTs (ACCESS__IDEMPOTENCY_TTL_HOURS)
and of bulk loads (BULK__IDEMPOTENCY_TTL_HOURS).

The `upkeep:purge` task empties them every minute wherever a worker runs; the idempotency
middleware also purges one bounded batch at most once a minute per process (so a service run
without workers stays clean), and `partnerships purge` empties them at once. Rows in use are
skipped (SKIP LOCKED), so a purge never waits on a request.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.config import Settings
from service.models import BulkIdempotencyKey, IdempotencyRecord

BATCH_ROWS = 1000


@dataclass(frozen=True)
class Purged:
    idempotency_records: int
    bulk_idempotency_keys: int

    @property
    def total(self) -> int:
        return self.idempotency_records + self.bulk_idempotency_keys


async def _batch(
    session: AsyncSession,
    table: type[IdempotencyRecord] | type[BulkIdempotencyKey],
    key_columns: tuple[InstrumentedAttribute[Any], ...],
    ttl_hours: int,
    rows: int,
) -> int:
    cutoff = func.statement_timestamp() - timedelta(hours=ttl_hours)
    expired = (
        select(*key_columns).where(table.created_at <= cutoff).limit(rows).with_for_update(skip_locked=True)
    )
    # A DELETE's result is a CursorResult, the one that counts rows.
    result = cast(CursorResult[Any], await session.execute(delete(table).where(tuple_(*key_columns).in_(expired))))
    return result.rowcount


async def purge_batch(session: AsyncSession, settings: Settings, rows: int = BATCH_ROWS) -> Purged:
    """Delete up to `rows` expired answers of each kind; the caller commits."""
    r, b = IdempotencyRecord, BulkIdempotencyKey
    return Purged(
        await _batch(session, r, (r.client, r.key), settings.access.idempotency_ttl_hours, rows),
        await _batch(session, b, (b.key,), settings.bulk.idempotency_ttl_hours, rows),
    )
