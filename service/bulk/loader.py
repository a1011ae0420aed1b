"""One bulk load, from the body's bytes to the report.

The body is read as it arrives, validated batch by batch and COPYed into the staging table;
once it has all arrived, the database checks (duplicates, references) run and the accepted
rows are merged, or only classified for a dry run or a strict load with rejected rows.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.bulk import staging
from service.bulk.reading import BodyMeter, RecordSplitter, decoded, metered
from service.bulk.rows import CsvRows, Rows
from service.bulk.schemas import BulkReport, Format, Mode
from service.bulk.spec import Resource
from service.config import BulkSettings
from service.ops.metrics import record_bulk_rows

log = logging.getLogger(__name__)

Progress = Callable[[int, int], Awaitable[None]]  # (bytes read, rows read)


@dataclass(frozen=True)
class Upload:
    resource: Resource
    format: Format
    gzip: bool
    mode: Mode
    dry_run: bool


async def raw_connection(session: AsyncSession, statement_timeout_ms: int) -> asyncpg.Connection:
    """The session's asyncpg connection, inside the session's transaction.

    The first statement goes through SQLAlchemy so that its transaction is begun: raw
    statements then run in it and commit or roll back with the request.
    """
    await session.execute(text(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}"))
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw.is_in_transaction()
    return raw


async def _merge(conn: asyncpg.Connection, resource: Resource, apply: bool) -> tuple[tuple[int, int, int], float]:
    """(created, updated, unchanged), merged or only classified, and the seconds the change
    feed's events of a merge took (its own phase in the log: its cost grows with the rows written)."""
    counts = await (staging.merge if apply else staging.classify)(conn, resource)
    started = time.perf_counter()
    if apply:
        await staging.write_events(conn, resource)
    return counts, time.perf_counter() - started


async def run(
    conn: asyncpg.Connection,
    upload: Upload,
    body: AsyncIterator[bytes],
    settings: BulkSettings,
    meter: BodyMeter,
    progress: Progress | None = None,
) -> BulkReport:
    """Load the body; conn is the request's connection, inside its transaction."""
    resource = upload.resource
    started = time.perf_counter()
    known_sectors = {code for (code,) in await conn.fetch("SELECT code FROM sectors")}
    columns = await staging.create(conn, resource)
    is_csv = upload.format == "csv"
    rows = (CsvRows if is_csv else Rows)(resource, known_sectors, settings.max_reported_errors, settings.max_record_bytes)
    validate = rows.csv if is_csv else rows.ndjson
    splitter = RecordSplitter(settings.max_record_bytes, quoted_newlines=is_csv)
    size = settings.batch_rows

    # One COPY is in flight while the next batch is validated: PostgreSQL takes in batch k
    # while Python checks batch k+1, on the machine's other core.
    copying: asyncio.Task | None = None

    async def stage(tuples: list[tuple]) -> None:
        nonlocal copying
        if copying:
            await copying
        if progress:  # while no COPY is in flight: progress may share the connection (tests)
            await progress(meter.bytes_read, rows.received)
        copying = asyncio.create_task(staging.copy(conn, columns, tuples))
        await asyncio.sleep(0)  # let it start sending

    pending: list = []
    try:
        async for chunk in decoded(metered(body, meter), upload.gzip):
            pending += splitter.feed(chunk)
            while len(pending) >= size:
                batch, pending = pending[:size], pending[size:]
                await stage(validate(batch))
        pending += splitter.end()
        await stage(validate(pending))
    finally:
        if copying:
            # Never leave a COPY running on the connection: the rollback of a failed request
            # (an interrupted upload) needs the connection. Reading exception() marks an
            # error of the COPY as seen when another error is already on its way.
            await asyncio.wait([copying])
            if not copying.cancelled():
                copying.exception()
    if copying:
        copying.result()

    read = time.perf_counter()
    cap = settings.max_reported_errors
    duplicates, duplicate_errors = await staging.reject_duplicates(conn, resource, cap)
    unknown, reference_errors = await staging.resolve_references(conn, resource, cap)
    rejected = rows.rejected + await staging.rejected_count(conn)
    apply = not upload.dry_run and (upload.mode == "partial" or rejected == 0)
    checked = time.perf_counter()
    (created, updated, unchanged), events = await _merge(conn, resource, apply)
    await staging.drop(conn, resource)
    log.info(
        "bulk %s: %d rows read, validated and staged in %.1fs, checked in %.1fs, %s in %.1fs, events in %.1fs: "
        "%d created, %d updated, %d unchanged, %d rejected",
        resource.name, rows.received, read - started, checked - read, "merged" if apply else "classified",
        time.perf_counter() - checked - events, events, created, updated, unchanged, rejected,
    )

    if apply:
        for outcome, count in (("created", created), ("updated", updated), ("unchanged", unchanged)):
            record_bulk_rows(resource.name, outcome, count)
    record_bulk_rows(resource.name, "rejected", rejected)

    errors = sorted(rows.errors + duplicate_errors + reference_errors, key=lambda e: e.line)
    return BulkReport(
        resource=resource.name, mode=upload.mode, dry_run=upload.dry_run, committed=apply,
        received=rows.received, created=created, updated=updated, unchanged=unchanged, rejected=rejected,
        errors=errors[:cap], errors_truncated=rows.error_count + duplicates + unknown > cap,
    )
