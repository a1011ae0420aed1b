import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from service.events.schemas import EVENT_TYPES, EventType
from service.kit.http import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, filter_values
from service.kit.schemas import InputModel, OutputModel
from service.kit.types import Text, Url

DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]
Description = Annotated[str, Text(500)]


def _distinct(types: list[EventType] | None) -> list[EventType] | None:
    # A type named twice would read as two subscriptions; one delivery is made either way.
    if types is not None and len(set(types)) != len(types):
        raise ValueError("each event type may be named once")
    return types


URL_DESCRIPTION = (
    "Where events are POSTed: http or https, on a public address (WEBHOOKS__ALLOW_NETWORKS may allow private "
    "networks); redirects are not followed."
)
TYPES_DESCRIPTION = "The event types to deliver; empty: every type, those added later included."


class WebhookCreate(InputModel):
    url: Url = Field(description=URL_DESCRIPTION, examples=["https://partner.example/hooks/partnerships"])
    event_types: list[EventType] = Field(default_factory=list, max_length=len(EVENT_TYPES), description=TYPES_DESCRIPTION)
    description: Description | None = Field(None, description="What the endpoint is for.")

    _distinct_types = field_validator("event_types")(_distinct)


class WebhookPatch(InputModel):
    url: Url | None = Field(None, description=URL_DESCRIPTION)
    event_types: list[EventType] | None = Field(None, max_length=len(EVENT_TYPES), description=TYPES_DESCRIPTION)
    description: Description | None = Field(None, description="What the endpoint is for; null clears it.")
    enabled: bool | None = Field(
        None, description="false stops deliveries; true starts them again (also after the service disabled the webhook).",
    )

    _distinct_types = field_validator("event_types")(_distinct)


class Webhook(OutputModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[EventType] = Field(description=TYPES_DESCRIPTION)
    enabled: bool
    disabled_reason: str | None = Field(description="Why deliveries stopped (by a client, or after failing for a day).")
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(
        description="The signing secret (`whsec_` and base64, as Standard Webhooks writes it). Shown only now: store it "
        "safely, and verify every delivery with it.",
    )


class Attempt(BaseModel):
    attempt: int = Field(description="1 for the first attempt, counting every attempt at this delivery.")
    at: datetime
    duration_ms: int
    response_status: int | None = Field(description="The receiver's HTTP status; null when no answer came.")
    response_body: str | None = Field(description="The start of the receiver's answer (a few KiB at most).")
    error: str | None = Field(description="Why the attempt failed, when it did.")
    succeeded: bool


class Delivery(OutputModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: str = Field(description="The event's id, sent as `webhook-id` with every attempt.")
    event_type: EventType
    status: DeliveryStatus = Field(
        description="`pending` (not yet tried), `retrying` (failed, another attempt is scheduled), `succeeded`, `failed` "
        "(no attempt left)."
    )
    attempt_count: int
    attempts: list[Attempt] = Field(description="The latest attempts, oldest first.")
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while one is.")
    created_at: datetime
    updated_at: datetime

    @field_validator("event_id", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class PageQuery(InputModel):
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page.")
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")


class DeliveryQuery(PageQuery):
    status: list[DeliveryStatus] = filter_values("Only deliveries in these states.")
