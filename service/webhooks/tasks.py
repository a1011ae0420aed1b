import uuid

from procrastinate import Blueprint, JobContext, RetryStrategy

from service.tasks.runtime import resources
from service.webhooks import deliveries


async def deliver(context: JobContext, delivery: str, retry: int | None) -> None:
    """Queued for each delivery by the fan-out, by its own retries and by resends."""
    if context.job.id is not None:
        await deliveries.attempt(resources(context), uuid.UUID(delivery), context.job.id, retry)


async def purge(context: JobContext, timestamp: int) -> None:
    await deliveries.purge(resources(context))


def blueprint() -> Blueprint:
    tasks = Blueprint()
    # Procrastinate's own retries are for failures of the service (the database away), not of
    # the endpoint: those are recorded and retried on the webhook schedule by deliveries.py.
    tasks.task(name="deliver", queue=deliveries.QUEUE, pass_context=True, retry=RetryStrategy(max_attempts=5, wait=10))(deliver)
    hourly = "17 * * * *"
    tasks.periodic(cron=hourly)(tasks.task(name="purge", queueing_lock="webhooks:purge", pass_context=True)(purge))
    return tasks
