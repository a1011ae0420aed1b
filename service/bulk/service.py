"""Rules of bulk loads: idempotency, strict and partial modes. Never commits."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.bulk import idempotency, loader
from service.bulk.loader import Upload
from service.bulk.reading import BodyMeter, metered
from service.bulk.schemas import BulkReport, RowsRejected
from service.config import BulkSettings
from service.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def answer_for(report: BulkReport, instance: str) -> Answer:
    """200 with the report, unless a strict load was refused: then 422, the report inside."""
    if report.rejected and report.mode == "strict" and not report.dry_run:
        problem = RowsRejected(
            type="/problems/rows-rejected", title="Rows rejected", status=422, instance=instance,
            detail=f"{report.rejected} of {report.received} rows were rejected, so nothing was committed (mode=strict). "
                   "Fix them and load again, or load with mode=partial to commit the valid rows.",
            report=report,
        )
        return Answer(422, problem.model_dump(mode="json", exclude_none=True))
    return Answer(200, report.model_dump(mode="json"))


def _fingerprint_of(upload: Upload, meter: BodyMeter) -> str:
    return idempotency.fingerprint(upload.resource.name, upload.format, upload.mode, upload.dry_run, meter.digest)


async def load(
    session: AsyncSession,
    upload: Upload,
    body: AsyncIterator[bytes],
    settings: BulkSettings,
    instance: str,
    idempotency_key: str | None = None,
) -> Answer:
    conn = await loader.raw_connection(session, settings.statement_timeout_ms)
    meter = BodyMeter()
    if idempotency_key:
        if not await idempotency.hold(conn, idempotency_key):
            raise Conflict("A request with this Idempotency-Key is still being processed; retry once it has finished.")
        stored = await idempotency.find(conn, idempotency_key, settings.idempotency_ttl_hours)
        if stored:
            async for _ in metered(body, meter):  # the body is only read, to tell a retry from a different request
                pass
            if stored.fingerprint != _fingerprint_of(upload, meter):
                raise InvalidInput.field(
                    "header.Idempotency-Key",
                    "this key was used for a different request (another file, resource, format or mode); use a new key",
                )
            return Answer(stored.status_code, stored.response, replayed=True)
    report = await loader.run(conn, upload, body, settings, meter)
    answer = answer_for(report, instance)
    if idempotency_key:
        stored = idempotency.StoredAnswer(_fingerprint_of(upload, meter), answer.status, answer.body)
        await idempotency.store(conn, idempotency_key, stored, settings.idempotency_ttl_hours)
    return answer
