"""Rules about webhooks: who sees them, what a change may be, resending. Never commits: the
request boundary does.

A webhook belongs to the API key that created it: that key sees and changes it, admin keys
see and change every webhook, and to any other key it does not exist (404)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal, Write
from service.config import WebhookSettings
from service.errors import Conflict, InvalidInput
from service.kit import outbound
from service.kit.clock import Clock
from service.kit.pagination import Page
from service.kit.repository import id_or_404, not_found
from service.models import Webhook as WebhookRow
from service.webhooks import deliveries, repository, signing
from service.webhooks.schemas import (
    Delivery,
    DeliveryQuery,
    PageQuery,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookPatch,
)

KIND = "webhook"
DELIVERY = "delivery"
REQUIRED = ("url", "event_types")  # a PATCH may not clear these (description it may)


def _owner_filter(principal: Principal) -> uuid.UUID | None:
    return None if principal.is_admin else principal.key_id


async def _get_row(session: AsyncSession, ref: str, principal: Principal, *, for_update: bool = False) -> WebhookRow:
    row = await repository.get(session, id_or_404(ref, KIND), for_update=for_update)
    if row is None or not (principal.is_admin or row.api_key_id == principal.key_id):
        raise not_found(KIND, ref)
    return row


async def _check_url(url: str, settings: WebhookSettings) -> None:
    """Refuse at once a URL no delivery could reach; every attempt checks again, as DNS answers change."""
    try:
        await outbound.checked(url, outbound.networks(settings.allow_networks))
    except outbound.Refused as exc:
        raise InvalidInput.field("body.url", str(exc)) from None


async def create(session: AsyncSession, data: WebhookCreate, principal: Principal, settings: WebhookSettings) -> WebhookCreated:
    assert principal.key_id is not None  # creating takes the write scope, so a key
    await _check_url(data.url, settings)
    row = WebhookRow(
        api_key_id=principal.key_id, url=data.url, event_types=list(data.event_types), description=data.description,
        secret=signing.new_secret(),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return _with_secret(row)


def _with_secret(row: WebhookRow) -> WebhookCreated:
    return WebhookCreated.model_validate(Webhook.model_validate(row).model_dump() | {"secret": row.secret})


async def list_page(session: AsyncSession, query: PageQuery, principal: Principal) -> Page[Webhook]:
    rows, cursor = await repository.page(session, query, _owner_filter(principal))
    return Page[Webhook](items=[Webhook.model_validate(r) for r in rows], next_cursor=cursor)


async def get(session: AsyncSession, ref: str, principal: Principal) -> Webhook:
    return Webhook.model_validate(await _get_row(session, ref, principal))


def _enable(row: WebhookRow, enabled: bool, clock: Clock) -> None:
    if enabled:
        row.enabled, row.disabled_reason, row.disabled_at = True, None, None
    elif row.enabled:
        deliveries.disable(row, "disabled by a client", clock.now())


async def update(
    session: AsyncSession, ref: str, patch: WebhookPatch, write: Write, settings: WebhookSettings, clock: Clock
) -> Webhook:
    row = await _get_row(session, ref, write.principal, for_update=True)
    write.preconditions.check(Webhook.model_validate(row))
    changes = patch.model_dump(exclude_unset=True)
    for field in (*REQUIRED, "enabled"):
        if field in changes and changes[field] is None:
            raise InvalidInput.field(f"body.{field}", "cannot be null")
    if "url" in changes:
        await _check_url(changes["url"], settings)
    for field in ("url", "event_types", "description"):
        if field in changes:
            setattr(row, field, changes[field])
    if "enabled" in changes:
        _enable(row, changes["enabled"], clock)
    await session.flush()
    await session.refresh(row)
    return Webhook.model_validate(row)


async def rotate_secret(session: AsyncSession, ref: str, write: Write) -> WebhookCreated:
    """A new secret, at once: attempts from now on are signed with it alone."""
    row = await _get_row(session, ref, write.principal, for_update=True)
    write.preconditions.check(Webhook.model_validate(row))
    row.secret = signing.new_secret()
    await session.flush()
    await session.refresh(row)
    return _with_secret(row)


async def delete(session: AsyncSession, ref: str, write: Write) -> None:
    """Its deliveries go with it; their queued jobs find nothing and send nothing."""
    row = await _get_row(session, ref, write.principal, for_update=True)
    write.preconditions.check(Webhook.model_validate(row))
    await session.delete(row)
    await session.flush()


async def delivery_page(session: AsyncSession, ref: str, query: DeliveryQuery, principal: Principal) -> Page[Delivery]:
    row = await _get_row(session, ref, principal)
    rows, cursor = await repository.delivery_page(session, row.id, query)
    return Page[Delivery](items=[Delivery.model_validate(r) for r in rows], next_cursor=cursor)


async def resend(session: AsyncSession, ref: str, delivery_ref: str, principal: Principal, clock: Clock) -> Delivery:
    """One more attempt, now; it replaces any retry still scheduled, and is not retried itself."""
    hook = await _get_row(session, ref, principal, for_update=True)
    if not hook.enabled:
        raise Conflict(f"Webhook '{ref}' is disabled; enable it (PATCH enabled: true) to resend.")
    row = await repository.delivery(session, hook.id, id_or_404(delivery_ref, DELIVERY), for_update=True)
    if row is None:
        raise not_found(DELIVERY, delivery_ref)
    row.status, row.next_attempt_at = "pending", clock.now()
    row.job_id = await deliveries.queue(session, row.id, retry=None)
    await session.flush()
    await session.refresh(row)
    return Delivery.model_validate(row)
