import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, Timestamped, new_id

DELIVERY_STATUSES = ("pending", "retrying", "succeeded", "failed")


class Webhook(Timestamped, Base):
    """An endpoint that receives events by POST, signed with its own secret."""

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The key that created it: only that key (and admins) see or change it.
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    # Empty: every type, those added later included.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(60)), server_default="{}")
    # `whsec_` and base64: deliveries are signed with it, so it is kept as it is; it is
    # shown once, in the answer to the create, and never answered or logged again.
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(server_default="true")
    disabled_reason: Mapped[str | None] = mapped_column(String(1000))
    disabled_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One event for one webhook, with every attempt made to deliver it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'retrying', 'succeeded', 'failed')", name="status"),
        Index("ix_webhook_deliveries_webhook_id_created_at_id", "webhook_id", "created_at", "id"),
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(60))
    # The body every attempt sends, byte for byte (the signature covers it).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    # The queued job allowed to attempt it; a job that finds another id here was replaced
    # (by a resend) and does nothing.
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    attempt_count: Mapped[int] = mapped_column(Integer, server_default="0")
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp(), onupdate=func.statement_timestamp())
