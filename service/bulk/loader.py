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
from service.bulk.rows import CsvRows, Record, Rows, StagedRow
from service.bulk.schemas import BulkReport, Format, Mode, RowError
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
    assert raw is not None and raw.is_in_transaction()
    return raw


async def _merge(conn: asyncpg.Connection, resource: Resource, apply: bool) -> tuple[tuple[int, int, int], float]:
    """(created, updated, unchanged), merged or only classified, and the seconds the change
    feed's events of a merge took (its own phase in the log: its cost grows with the rows written)."""
    rules = resource.rules
    if rules:
        counts = await (rules.merge if apply else rules.classify)(conn)
    else:
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
    rows, validate = _validator(upload.format, resource, known_sectors, settings)
    splitter = RecordSplitter(settings.max_record_bytes, quoted_newlines=upload.format == "csv")
    batches = _Batches(conn, columns, rows, meter, progress)
    await batches.stage_all(decoded(metered(body, meter), upload.gzip), splitter, validate, settings.batch_rows)

    read = time.perf_counter()
    cap = settings.max_reported_errors
    checked = await _check(conn, resource, rows, cap)
    apply = not upload.dry_run and (upload.mode == "partial" or checked.rejected == 0)
    checked_at = time.perf_counter()
    (created, updated, unchanged), events = await _merge(conn, resource, apply)
    await staging.drop(conn, resource)
    log.info(
        "bulk %s: %d rows read, validated and staged in %.1fs, checked in %.1fs, %s in %.1fs, events in %.1fs: "
        "%d created, %d updated, %d unchanged, %d rejected",
        resource.name, rows.received, read - started, checked_at - read, "merged" if apply else "classified",
        time.perf_counter() - checked_at - events, events, created, updated, unchanged, checked.rejected,
    )
    _record_outcomes(resource.name, apply, created, updated, unchanged, checked.rejected)
    return BulkReport(
        resource=resource.name, mode=upload.mode, dry_run=upload.dry_run, committed=apply,
        received=rows.received, created=created, updated=updated, unchanged=unchanged, rejected=checked.rejected,
        errors=checked.errors[:cap], errors_truncated=checked.error_count > cap,
    )


Validate = Callable[[list[Record]], list[StagedRow]]


def _validator(
    format: Format, resource: Resource, known_sectors: set[str], settings: BulkSettings
) -> tuple[Rows, Validate]:
    """The rows of the file's format, and their method that validates a batch of records."""
    limits = (settings.max_reported_errors, settings.max_record_bytes)
    if format == "csv":
        csv_rows = CsvRows(resource, known_sectors, *limits)
        return csv_rows, csv_rows.csv
    ndjson_rows = Rows(resource, known_sectors, *limits)
    return ndjson_rows, ndjson_rows.ndjson


class _Batches:
    """Validated batches COPYed into the staging table.

    One COPY is in flight while the next batch is validated (on a worker thread): PostgreSQL
    takes in batch k while Python checks batch k+1, on the machine's other core.
    """

    def __init__(
        self, conn: asyncpg.Connection, columns: list[str], rows: Rows, meter: BodyMeter, progress: Progress | None
    ) -> None:
        self.conn, self.columns, self.rows, self.meter, self.progress = conn, columns, rows, meter, progress
        self.copying: asyncio.Task[None] | None = None

    async def stage_all(
        self, chunks: AsyncIterator[bytes], splitter: RecordSplitter, validate: Validate, size: int
    ) -> None:
        """Split the chunks into records and stage them, size records a batch."""
        pending: list[Record] = []
        try:
            async for chunk in chunks:
                pending += splitter.feed(chunk)
                while len(pending) >= size:
                    batch, pending = pending[:size], pending[size:]
                    await self._stage(await self._validated(validate, batch))
            pending += splitter.end()
            await self._stage(await self._validated(validate, pending))
        finally:
            await self._settle()
        if self.copying:
            self.copying.result()

    @staticmethod
    async def _validated(validate: Validate, batch: list[Record]) -> list[StagedRow]:
        # On a worker thread: a batch takes seconds when its rows' languages are detected
        # (a few ms a row of long text), and on the event loop every other request would
        # wait that long (tests/ops/test_event_loop.py).
        return await asyncio.to_thread(validate, batch)

    async def _stage(self, tuples: list[StagedRow]) -> None:
        if self.copying:
            await self.copying
        if self.progress:  # while no COPY is in flight: progress may share the connection (tests)
            await self.progress(self.meter.bytes_read, self.rows.received)
        self.copying = asyncio.create_task(staging.copy(self.conn, self.columns, tuples))
        await asyncio.sleep(0)  # let it start sending

    async def _settle(self) -> None:
        if self.copying:
            # Never leave a COPY running on the connection: the rollback of a failed request
            # (an interrupted upload) needs the connection. Reading exception() marks an
            # error of the COPY as seen when another error is already on its way.
            await asyncio.wait([self.copying])
            if not self.copying.cancelled():
                self.copying.exception()


@dataclass(frozen=True)
class _Checked:
    """What the database checks (duplicates, references) found, with the rows' own errors."""

    rejected: int
    errors: list[RowError]  # by line
    error_count: int  # every error, reported or not


async def _check(conn: asyncpg.Connection, resource: Resource, rows: Rows, cap: int) -> _Checked:
    duplicates, duplicate_errors = await staging.reject_duplicates(conn, resource, cap)
    unknown, reference_errors = await staging.resolve_references(conn, resource, cap)
    guarded, guard_errors = await staging.reject_guarded(conn, resource, cap)
    broken, rule_errors = await resource.rules.check(conn, cap) if resource.rules else (0, [])
    rejected = rows.rejected + await staging.rejected_count(conn)
    errors = sorted(rows.errors + duplicate_errors + reference_errors + guard_errors + rule_errors, key=lambda e: e.line)
    return _Checked(rejected, errors, rows.error_count + duplicates + unknown + guarded + broken)


def _record_outcomes(resource: str, applied: bool, created: int, updated: int, unchanged: int, rejected: int) -> None:
    if applied:
        for outcome, count in (("created", created), ("updated", updated), ("unchanged", unchanged)):
            record_bulk_rows(resource, outcome, count)
    record_bulk_rows(resource, "rejected", rejected)
