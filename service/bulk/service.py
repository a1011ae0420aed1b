"""Rules of bulk loads: idempotency, strict and partial modes. Never commits."""

import uuid
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal
from service.bulk import idempotency, job_rows, loader, spool
from service.bulk.answers import Answer, answer_for
from service.bulk.loader import Upload
from service.bulk.reading import BodyMeter
from service.bulk.schemas import BulkJob
from service.config import BulkSettings
from service.errors import Conflict, InvalidInput
from service.kit.repository import id_or_404, not_found


def _fingerprint_of(upload: Upload, meter: BodyMeter, run_async: bool) -> str:
    how = f"{upload.mode}{' async' if run_async else ''}"
    return idempotency.fingerprint(upload.resource.name, upload.format, how, upload.dry_run, meter.digest)


async def load(
    session: AsyncSession,
    upload: Upload,
    body: IO[bytes],
    meter: BodyMeter,
    settings: BulkSettings,
    instance: str,
    idempotency_key: str | None = None,
    run_async: bool = False,
    api_key_id: uuid.UUID | None = None,
) -> Answer:
    """Load the body, which has arrived whole (in a spool, metered), or (run_async) keep it
    for a job: then the answer names the job to run, which takes the spool over."""
    conn = await loader.raw_connection(session, settings.statement_timeout_ms)
    if idempotency_key:
        if not await idempotency.hold(conn, idempotency_key):
            raise Conflict("A request with this Idempotency-Key is still being processed; retry once it has finished.")
        stored = await idempotency.find(conn, idempotency_key, settings.idempotency_ttl_hours)
        if stored:
            if stored.fingerprint != _fingerprint_of(upload, meter, run_async):
                raise InvalidInput.field(
                    "header.Idempotency-Key",
                    "this key was used for a different request (another file, resource, format or mode); use a new key",
                )
            if stored.status_code == 202:  # a job: as it is now (if gone, as it was)
                job = await job_rows.get(conn, uuid.UUID(stored.response["id"]))
                if job is not None:
                    return Answer(202, job.model_dump(mode="json"), replayed=True)
            return Answer(stored.status_code, stored.response, replayed=True)
    if run_async:
        job = await job_rows.create(conn, upload, meter.bytes_read, api_key_id)
        answer = Answer(202, job.model_dump(mode="json"), job=job.id)
    else:
        report = await loader.run(conn, upload, spool.chunks_of(body), settings, BodyMeter())
        answer = answer_for(report, instance)
    if idempotency_key:
        stored = idempotency.StoredAnswer(_fingerprint_of(upload, meter, run_async), answer.status, answer.body)
        await idempotency.store(conn, idempotency_key, stored, settings.idempotency_ttl_hours)
    return answer


async def get_job(session: AsyncSession, job_id: str, statement_timeout_ms: int, principal: Principal) -> BulkJob:
    """A job, for the key that started it and for admins; to anyone else it does not exist
    (404, not 403: job ids must not tell that other keys are loading)."""
    key = id_or_404(job_id, "bulk job")
    owner = None if principal.is_admin else principal.key_id
    job = await job_rows.get(await loader.raw_connection(session, statement_timeout_ms), key, owner)
    if job is None:
        raise not_found("bulk job", job_id)
    return job
