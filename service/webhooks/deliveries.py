"""Deliveries: made from events (fan-out), attempted by the `webhooks:deliver` task, retried
on a schedule, and purged when old.

At least once: a worker that dies between sending and recording an attempt is retried, and
the receiver sees the same `webhook-id` again. A delivery is attempted by one job at a time:
the job whose id the delivery holds; a resend queues another and takes that place, and a
job that finds its place taken does nothing.
"""

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.config import WebhookSettings
from service.events.service import to_schema
from service.models import Event, Webhook, WebhookDelivery
from service.tasks import repository as tasks
from service.tasks.runtime import Resources
from service.webhooks import repository, signing

TASK = "webhooks:deliver"
QUEUE = "webhooks"
KEPT_ATTEMPTS = 20  # the delivery log keeps the latest; attempt_count keeps counting
PURGE_BATCH = 1000

def subscribed(hook: Webhook, event: Event) -> bool:
    if hook.event_types and event.type not in hook.event_types:
        return False
    # An event meant for one key (a saved search's alert) goes to that key's webhooks only.
    return event.audience_key_id is None or event.audience_key_id == hook.api_key_id


async def queue(
    session: AsyncSession, delivery_id: uuid.UUID, retry: int | None, at: datetime | None = None
) -> int:
    """Queue an attempt in the session's transaction; retry: the index of the wait before the
    retry that follows a failure (None: no retry, as for a resend). Returns the job's id."""
    job_id = await tasks.defer(session, TASK, {"delivery": str(delivery_id), "retry": retry}, queue=QUEUE, scheduled_at=at)
    assert job_id is not None  # no queueing lock: the insert cannot be skipped
    return job_id


async def fan_out(session: AsyncSession, events: list[Event]) -> None:
    """A consumer of the change feed: a delivery, and the job to attempt it, for every event
    and every enabled webhook subscribed to it, in the transaction that moves the feed on."""
    hooks = await repository.subscribers(session)
    rows: list[dict[str, Any]] = []
    for event in events:
        payload: str | None = None
        for hook in hooks:
            if not subscribed(hook, event):
                continue
            payload = payload or to_schema(event).model_dump_json()
            delivery_id = uuid.uuid4()
            rows.append({
                "id": delivery_id, "webhook_id": hook.id, "event_id": event.id, "event_type": event.type,
                "payload": payload, "job_id": await queue(session, delivery_id, retry=0),
            })
    await repository.add_deliveries(session, rows)


def _entry(number: int, at: datetime, outcome: signing.Outcome) -> dict[str, Any]:
    return {
        "attempt": number, "at": at.isoformat(), "duration_ms": outcome.duration_ms,
        "response_status": outcome.status, "response_body": outcome.body, "error": outcome.error,
        "succeeded": outcome.succeeded,
    }


def wait(settings: WebhookSettings, retry: int) -> timedelta:
    """The wait before retry number retry + 1, varied by up to the jitter either way."""
    spread = settings.retry_jitter
    return timedelta(seconds=settings.retry_delays_seconds[retry] * random.uniform(1 - spread, 1 + spread))


def disable(hook: Webhook, reason: str, at: datetime) -> None:
    hook.enabled, hook.disabled_reason, hook.disabled_at = False, reason[:1000], at


async def _settle(
    session: AsyncSession, delivery: WebhookDelivery, hook: Webhook, retry: int | None, outcome: signing.Outcome,
    service: Resources,
) -> None:
    """The delivery's state after an attempt: succeeded, retrying later, or failed (and the
    webhook disabled, when a whole schedule of retries failed)."""
    now, delays = service.clock.now(), service.settings.webhooks.retry_delays_seconds
    delivery.next_attempt_at = None
    if outcome.succeeded:
        delivery.status = "succeeded"
    elif retry is not None and retry < len(delays):
        delivery.status, delivery.next_attempt_at = "retrying", now + wait(service.settings.webhooks, retry)
        delivery.job_id = await queue(session, delivery.id, retry + 1, delivery.next_attempt_at)
    else:
        delivery.status = "failed"
        if retry is not None:
            disable(hook, f"{len(delays) + 1} attempts to deliver event {delivery.event_id} failed; the last: "
                          f"{outcome.error}", now)


async def attempt(service: Resources, delivery_id: uuid.UUID, job_id: int, retry: int | None) -> None:
    """The work of one `webhooks:deliver` job. The POST is made outside any transaction; its
    outcome is then recorded under the delivery's lock."""
    async with service.sessionmaker() as session:
        found = await repository.delivery_and_webhook(session, delivery_id, for_update=True)
        if found is None or found[0].job_id != job_id:
            return  # the webhook was deleted, or a resend took this job's place
        delivery, hook = found
        if not hook.enabled:
            delivery.status, delivery.next_attempt_at = "failed", None
            await session.commit()
            return
        url, secret, payload, message_id = hook.url, hook.secret, delivery.payload, str(delivery.event_id)
    at = service.clock.now()
    outcome = await signing.post(url, payload, signing.headers(secret, message_id, payload, at), service.settings.webhooks)
    async with service.sessionmaker() as session:
        found = await repository.delivery_and_webhook(session, delivery_id, for_update=True)
        if found is None:
            return
        delivery, hook = found
        delivery.attempt_count += 1
        delivery.attempts = [*delivery.attempts, _entry(delivery.attempt_count, at, outcome)][-KEPT_ATTEMPTS:]
        if delivery.job_id == job_id:  # else a resend was queued meanwhile: its attempt decides
            await _settle(session, delivery, hook, retry, outcome, service)
        await session.commit()


async def purge(service: Resources) -> int:
    """Delete finished deliveries older than WEBHOOKS__RETENTION_DAYS, a committed batch at a time."""
    before = service.clock.now() - timedelta(days=service.settings.webhooks.retention_days)
    total = 0
    while True:
        async with service.sessionmaker() as session:
            deleted = await repository.purge_finished(session, before, PURGE_BATCH)
            await session.commit()
        total += deleted
        if deleted < PURGE_BATCH:
            return total
