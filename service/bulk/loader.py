"""One bulk load, from the body's bytes to the report.

The body is read as it arrives, validated batch by batch and COPYed into the staging table;
once it has all arrived, the database checks (duplicates, references) run and the accepted
rows are merged, or only classified for a dry run or a strict load with rejected rows.
"""

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
    known_sectors = {code for (code,) in await conn.fetch("SELECT code FROM sectors")}
    columns = await staging.create(conn, resource)
    is_csv = upload.format == "csv"
    rows = (CsvRows if is_csv else Rows)(resource, known_sectors, settings.max_reported_errors, settings.max_record_bytes)
    validate = rows.csv if is_csv else rows.ndjson
    splitter = RecordSplitter(settings.max_record_bytes, quoted_newlines=is_csv)
    size = settings.batch_rows

    pending: list = []
    async for chunk in decoded(metered(body, meter), upload.gzip):
        pending += splitter.feed(chunk)
        while len(pending) >= size:
            batch, pending = pending[:size], pending[size:]
            await staging.copy(conn, columns, validate(batch))
            if progress:
                await progress(meter.bytes_read, rows.received)
    pending += splitter.end()
    await staging.copy(conn, columns, validate(pending))

    cap = settings.max_reported_errors
    duplicates, duplicate_errors = await staging.reject_duplicates(conn, resource, cap)
    unknown, reference_errors = await staging.resolve_references(conn, resource, cap)
    rejected = rows.rejected + await staging.rejected_count(conn)
    apply = not upload.dry_run and (upload.mode == "partial" or rejected == 0)
    created, updated, unchanged = await (staging.merge if apply else staging.classify)(conn, resource)
    await staging.drop(conn, resource)

    errors = sorted(rows.errors + duplicate_errors + reference_errors, key=lambda e: e.line)
    return BulkReport(
        resource=resource.name, mode=upload.mode, dry_run=upload.dry_run, committed=apply,
        received=rows.received, created=created, updated=updated, unchanged=unchanged, rejected=rejected,
        errors=errors[:cap], errors_truncated=rows.error_count + duplicates + unknown > cap,
    )
