"""The bulk domain's tasks: `bulk:run`, a background load queued by `POST /v1/bulk/{resource}?async=true`."""

import uuid

from procrastinate import Blueprint, JobContext

from service.bulk import jobs
from service.bulk.loader import Upload
from service.bulk.resources import RESOURCES
from service.bulk.schemas import Format, Mode
from service.tasks.runtime import resources

QUEUE = "bulk"


def lock_of(job_id: uuid.UUID) -> str:
    """One attempt of a job at a time: a retry waits until a stalled attempt is given up."""
    return f"bulk:{job_id}"


def args_of(job_id: uuid.UUID, upload: Upload, instance: str) -> dict[str, str | bool]:
    """The arguments `run` takes for a job."""
    return {
        "job_id": str(job_id), "resource": upload.resource.name, "format": upload.format, "gzip": upload.gzip,
        "mode": upload.mode, "dry_run": upload.dry_run, "instance": instance,
    }


async def run(
    context: JobContext, job_id: str, resource: str, format: Format, gzip: bool, mode: Mode, dry_run: bool,
    instance: str,
) -> None:
    service = resources(context)
    upload = Upload(RESOURCES[resource], format, gzip, mode, dry_run)
    await jobs.run(service.sessionmaker, uuid.UUID(job_id), upload, service.settings.bulk, instance)


def blueprint() -> Blueprint:
    tasks = Blueprint()
    tasks.task(name="run", queue=QUEUE, pass_context=True)(run)
    return tasks
