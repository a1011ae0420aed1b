from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from service.access.principal import Principal, WriteDep, requires
from service.db import SessionDep
from service.kit.app_state import SettingsDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_read, link_next, with_etag
from service.kit.pagination import Page
from service.webhooks import service
from service.webhooks.schemas import (
    Delivery,
    DeliveryQuery,
    PageQuery,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookPatch,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

Reader = Annotated[Principal, Depends(requires("read"))]
WebhookRef = Annotated[str, Path(min_length=1, max_length=40, description="The webhook's id.")]
DeliveryRef = Annotated[str, Path(min_length=1, max_length=40, description="The delivery's id.")]


@router.get("", summary="List your webhooks (admin keys: every webhook)")
async def list_webhooks(
    session: SessionDep, principal: Reader, request: Request, response: Response, query: Annotated[PageQuery, Query()]
) -> Page[Webhook]:
    page = await service.list_page(session, query, principal)
    link_next(request, response, page.next_cursor)
    return page


@router.post("", status_code=201, summary="Register a webhook; its signing secret is shown once")
async def create_webhook(
    session: SessionDep, write: WriteDep, settings: SettingsDep, response: Response, body: WebhookCreate
) -> WebhookCreated:
    """Events of the chosen types are POSTed to the URL, signed as Standard Webhooks describe
    (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and retried for about a day."""
    created = await service.create(session, body, write.principal, settings.webhooks)
    response.headers["Location"] = f"/v1/webhooks/{created.id}"
    response.headers["Cache-Control"] = "no-store"
    return created


@router.get("/{webhook}", response_model=Webhook, summary="Get a webhook (never its secret)")
async def get_webhook(session: SessionDep, principal: Reader, request: Request, response: Response, webhook: WebhookRef) -> Response:
    return conditional_read(request, response, await service.get(session, webhook, principal))


@router.patch("/{webhook}", summary="Change a webhook (merge); `enabled: true` starts deliveries again")
async def update_webhook(
    session: SessionDep, write: WriteDep, settings: SettingsDep, clock: ClockDep, response: Response,
    webhook: WebhookRef, body: WebhookPatch,
) -> Webhook:
    updated = await service.update(session, webhook, body, write, settings.webhooks, clock)
    with_etag(response, updated)
    return updated


@router.post("/{webhook}/rotate-secret", summary="Replace a webhook's signing secret; the new one is shown once")
async def rotate_webhook_secret(session: SessionDep, write: WriteDep, response: Response, webhook: WebhookRef) -> WebhookCreated:
    """The old secret stops at once: attempts made from now on are signed with the new one only."""
    rotated = await service.rotate_secret(session, webhook, write)
    response.headers["Cache-Control"] = "no-store"
    return rotated


@router.delete("/{webhook}", status_code=204, summary="Delete a webhook; nothing more is delivered to it")
async def delete_webhook(session: SessionDep, write: WriteDep, webhook: WebhookRef) -> None:
    await service.delete(session, webhook, write)


@router.get("/{webhook}/deliveries", summary="A webhook's deliveries and their attempts, newest first")
async def list_webhook_deliveries(
    session: SessionDep, principal: Reader, request: Request, response: Response, webhook: WebhookRef,
    query: Annotated[DeliveryQuery, Query()],
) -> Page[Delivery]:
    page = await service.delivery_page(session, webhook, query, principal)
    link_next(request, response, page.next_cursor)
    return page


@router.post("/{webhook}/deliveries/{delivery}/resend", status_code=202, summary="Attempt a delivery again, now")
async def resend_webhook_delivery(
    session: SessionDep, write: WriteDep, clock: ClockDep, webhook: WebhookRef, delivery: DeliveryRef
) -> Delivery:
    """One more attempt with the same `webhook-id`; it replaces any retry still scheduled and
    is not retried itself."""
    return await service.resend(session, webhook, delivery, write.principal, clock)
