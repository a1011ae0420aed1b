import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.cluster import Cluster
from service.models.language import language_check, language_column
from service.models.partnership import Partnership

MISSION_KINDS = (
    "business-mission", "trade-mission", "fact-finding", "matchmaking-event", "trade-fair",
    "inbound-mission", "study-visit",
)

MISSION_SEARCH = (
    "search_vector(language, title, 'A') || "
    "search_vector(language, coalesce(destination_city, '') || ' ' || coalesce(external_organiser, ''), 'B') || "
    "search_vector(language, description, 'C') || search_vector('en', sector_words(sectors), 'D') || "
    "search_language(language)"
)


class Mission(Timestamped, Versioned, Base):
    """A business mission, matchmaking event, trade fair or visit in a target market.

    Dates are local dates at the destination; times, when known, are local times in
    `timezone`. The status is derived from the dates (see missions/status.py).
    """

    __tablename__ = "missions"
    __table_args__ = (
        language_check(),
        CheckConstraint(f"kind IN {MISSION_KINDS}", name="kind"),
        CheckConstraint("direction IN ('outbound', 'inbound')", name="direction"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
        CheckConstraint("application_deadline IS NULL OR application_deadline <= starts_on", name="deadline"),
        CheckConstraint("cost_reimbursement_percent BETWEEN 0 AND 100", name="reimbursement"),
        UniqueConstraint("source_id", "source_uid"),
        # Uploads without a source are keyed by UID alone.
        Index("uq_missions_upload_uid", "source_uid", unique=True, postgresql_where=text("source_id IS NULL")),
        Index("ix_missions_starts_on_id", "starts_on", "id"),
        # The search walks missions in deadline order, open-ended last (see models/opportunity.py).
        Index("ix_missions_deadline_key", text("COALESCE(application_deadline, '9999-12-31'::date)"), "id"),
        Index("ix_missions_destination_country", "destination_country"),
        Index("ix_missions_sectors", "sectors", postgresql_using="gin"),
        Index("ix_missions_search", "search", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    direction: Mapped[str] = mapped_column(String(10))
    destination_country: Mapped[str] = mapped_column(String(2))
    destination_city: Mapped[str | None] = mapped_column(String(120))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    applications_open_on: Mapped[date | None]
    application_deadline: Mapped[date | None]
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    external_organiser: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int | None]
    cost_reimbursement_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    url: Mapped[str | None] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(Text)
    cancelled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    participating_smes: Mapped[int | None]
    bilateral_meetings: Mapped[int | None]
    business_contracts: Mapped[int | None]
    agreements_signed: Mapped[int | None]
    # The two outcomes counted from the mission's meetings and agreements once a meeting is
    # recorded (None before): filled by the missions repository's reads, never stored, and
    # shown in place of the stored figures (missions/service.py, `DERIVED`).
    counted_meetings: Mapped[int | None] = query_expression()
    counted_agreements: Mapped[int | None] = query_expression()
    # Missions taken in from a calendar feed: which feed, the event's UID there, and what the
    # event looked like when last applied (to tell a changed event from a re-sent one).
    source_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calendar_sources.id", ondelete="RESTRICT"))
    source_uid: Mapped[str | None] = mapped_column(String(500))
    source_sequence: Mapped[int | None]
    source_fingerprint: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = language_column()
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(MISSION_SEARCH, persisted=True), deferred=True)

    organisers: Mapped[list["MissionOrganiser"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise", order_by="MissionOrganiser.position",
    )


class MissionOrganiser(Base):
    """A cluster or a partnership organising a mission (exactly one of the two)."""

    __tablename__ = "mission_organisers"
    __table_args__ = (
        CheckConstraint("num_nonnulls(cluster_id, partnership_id) = 1", name="one_organiser"),
        UniqueConstraint("mission_id", "cluster_id"),
        UniqueConstraint("mission_id", "partnership_id"),
        Index("ix_mission_organisers_cluster_id", "cluster_id"),
        Index("ix_mission_organisers_partnership_id", "partnership_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    position: Mapped[int]
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"))
    partnership_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partnerships.id", ondelete="RESTRICT"))

    cluster: Mapped[Cluster | None] = relationship(lazy="raise")
    partnership: Mapped[Partnership | None] = relationship(lazy="raise")


class MissionParticipant(Base):
    """A cluster taking part in a mission, with how many of its SMEs go."""

    __tablename__ = "mission_participants"
    __table_args__ = (Index("ix_mission_participants_cluster_id", "cluster_id"),)

    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"), primary_key=True)
    smes: Mapped[int | None]
    joined_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())

    cluster: Mapped[Cluster] = relationship(lazy="raise")
