import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Interval, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.cluster import Cluster


class CalendarSource(Timestamped, Versioned, Base):
    """An external mission calendar (iCalendar or JSON) that sync takes missions from."""

    __tablename__ = "calendar_sources"
    __table_args__ = (
        CheckConstraint("format IN ('ics', 'json')", name="format"),
        Index("ix_calendar_sources_cluster_id", "cluster_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    format: Mapped[str] = mapped_column(String(10))
    organiser: Mapped[str | None] = mapped_column(String(300))
    # The owning cluster: the organising cluster of the source's missions, and the only
    # cluster whose keys may change or sync it. None: no organising cluster (unbound keys only).
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"))
    default_kind: Mapped[str] = mapped_column(String(30))
    default_sectors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    default_country: Mapped[str | None] = mapped_column(String(2))
    # Conditional GET: what the feed answered last time.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_synced_at: Mapped[datetime | None]
    last_report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Synced by the `calendar:sync_due` task once this long has passed since the last sync;
    # None: synced only when asked.
    sync_interval: Mapped[timedelta | None] = mapped_column(Interval)

    cluster: Mapped[Cluster | None] = relationship(lazy="raise")
