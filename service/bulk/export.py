"""Export: every record of a resource, in exactly the shape the loader takes.

A server-side cursor walks the export query (one statement, so one consistent snapshot)
batch by batch; output is flushed in pieces, so memory stays bounded whatever the size.
The pieces go into a spool as fast as the database gives them and the client is fed from
there (service.bulk.delivery): the connection is back in the pool once the query is done,
however slowly the client reads.
"""

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.bulk.csvcodec import encode_row
from service.bulk.loader import raw_connection
from service.bulk.schemas import Format
from service.bulk.spec import Resource
from service.config import BulkSettings

BATCH_ROWS = 1000
FLUSH_BYTES = 256 * 1024
# Rows encoded between two turns of the event loop: the cursor yields to it only once per
# BATCH_ROWS, and encoding that many rows would keep every other request waiting ~40 ms.
ROWS_PER_TURN = 100


def _ndjson_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


async def records(
    sessionmaker: async_sessionmaker[AsyncSession], resource: Resource, format: Format, settings: BulkSettings
) -> AsyncIterator[bytes]:
    async with sessionmaker() as session:
        conn = await raw_connection(session, settings.statement_timeout_ms)
        buffer = io.StringIO()
        writer = None
        if format == "csv":
            # CRLF line ends (RFC 4180), so that every field holding a CR or LF gets quoted.
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow([column.name for column in resource.csv])
        columns = list(resource.csv)
        rows = 0
        async for row in conn.cursor(resource.export_query, prefetch=BATCH_ROWS):
            rows += 1
            if rows % ROWS_PER_TURN == 0:
                await asyncio.sleep(0)
            record = resource.export_row(row)
            if writer:
                writer.writerow(encode_row(columns, record))
            else:
                buffer.write(_ndjson_line(record))
            if buffer.tell() >= FLUSH_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()
        await session.rollback()  # read only: nothing to keep

