"""All SQL about webhooks and their deliveries."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit import repository as kit
from service.kit.pagination import Sort, SortField
from service.models import Webhook, WebhookDelivery
from service.webhooks.schemas import DeliveryQuery, PageQuery

WEBHOOK_ORDER = Sort("created_at", SortField(Webhook.created_at, datetime), descending=False)
DELIVERY_ORDER = Sort("created_at", SortField(WebhookDelivery.created_at, datetime), descending=True)
FINISHED = ("succeeded", "failed")


async def get(session: AsyncSession, webhook_id: uuid.UUID, *, for_update: bool = False) -> Webhook | None:
    found: Webhook | None = await kit.one(session, select(Webhook).where(Webhook.id == webhook_id), for_update=for_update)
    return found


async def page(session: AsyncSession, query: PageQuery, owner: uuid.UUID | None) -> tuple[list[Webhook], str | None]:
    """A page of the webhooks of the key owner (of every key when None)."""
    stmt = select(Webhook)
    if owner is not None:
        stmt = stmt.where(Webhook.api_key_id == owner)
    return await kit.page(session, stmt, WEBHOOK_ORDER, Webhook.id, query)


async def subscribers(session: AsyncSession) -> list[Webhook]:
    """Every enabled webhook: those an event goes to are picked from these."""
    return list(await session.scalars(select(Webhook).where(Webhook.enabled)))


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), rows)


async def delivery(
    session: AsyncSession, webhook_id: uuid.UUID, delivery_id: uuid.UUID, *, for_update: bool = False
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook_id)
    found: WebhookDelivery | None = await kit.one(session, stmt, for_update=for_update)
    return found


async def delivery_and_webhook(
    session: AsyncSession, delivery_id: uuid.UUID, *, for_update: bool = False
) -> tuple[WebhookDelivery, Webhook] | None:
    """A delivery and its webhook (both locked when for_update); None once the webhook is deleted."""
    stmt = (
        select(WebhookDelivery, Webhook).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id == delivery_id)
    )
    row = await kit.one(session, stmt, for_update=for_update, whole_rows=True)
    return None if row is None else (row.WebhookDelivery, row.Webhook)


async def delivery_page(
    session: AsyncSession, webhook_id: uuid.UUID, query: DeliveryQuery
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if query.status:
        stmt = stmt.where(WebhookDelivery.status.in_(query.status))
    return await kit.page(session, stmt, DELIVERY_ORDER, WebhookDelivery.id, query)


async def purge_finished(session: AsyncSession, before: datetime, batch: int) -> int:
    """Delete up to batch finished deliveries created before `before`; how many were."""
    oldest = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.created_at < before, WebhookDelivery.status.in_(FINISHED))
        .limit(batch).with_for_update(skip_locked=True)
    )
    result = await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(oldest)))
    return int(getattr(result, "rowcount", 0))
