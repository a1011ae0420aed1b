import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Uuid, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base

# The writing transaction's id. Ids are handed out in the order transactions start, not the
# order they commit: the change feed reads in (txid, id) order and only events of
# transactions older than every one still running, so one that commits late is never
# passed over by a reader's cursor.
CURRENT_TXID = text("pg_current_xact_id()::text::bigint")


class Event(Base):
    """One change of a resource, written in the transaction that made it (an outbox): the
    change feed pages through these, and webhooks and saved-search alerts are fed from them."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_txid_id", "txid", "id"), Index("ix_events_type_txid_id", "type", "txid", "id"))

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=CURRENT_TXID)
    type: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[Any] = mapped_column(Uuid)
    resource_version: Mapped[int | None]
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Who may see the event, when not everyone may (a saved search's alert: its owner's key);
    # null: every reader of the feed. It goes when the key goes.
    audience_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)


class EventConsumer(Base):
    """How far a consumer of events (the dispatcher) has read, as (txid, id)."""

    __tablename__ = "event_consumers"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, server_default="0")
    event_id: Mapped[int] = mapped_column(BigInteger, server_default="0")
