"""Bilateral meetings at a mission: its meeting setup and sessions, participants'
availability, meeting requests, the meetings scheduled and the agenda feed tokens.

Session and meeting times are local times at the mission (its `timezone`), as a mission's
own times are.
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, Timestamped, Versioned, new_id

REQUEST_STATUSES = ("pending", "accepted", "declined", "withdrawn")
MEETING_STATUSES = ("scheduled", "published", "held", "no-show")
# Meetings that have happened (or not): once one is, the schedule is history and the
# mission's meeting outcomes are counted from them.
RECORDED_STATUSES = ("held", "no-show")
Local = DateTime(timezone=False)


class MeetingSetup(Timestamped, Versioned, Base):
    """How a mission's meetings are cut: their length and the tables in the room."""

    __tablename__ = "meeting_setups"
    __table_args__ = (
        CheckConstraint("meeting_minutes BETWEEN 5 AND 480", name="meeting_minutes"),
        CheckConstraint("tables BETWEEN 1 AND 10000", name="tables"),
    )

    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"), primary_key=True)
    meeting_minutes: Mapped[int]
    tables: Mapped[int]


class MeetingSession(Base):
    """A stretch of time given to meetings, cut into slots of the meeting length."""

    __tablename__ = "meeting_sessions"
    __table_args__ = (
        UniqueConstraint("mission_id", "name"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_setups.mission_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(Local)
    ends_at: Mapped[datetime] = mapped_column(Local)


# A participant's rows go with its participation.
_PARTICIPANT = ("mission_participants.mission_id", "mission_participants.cluster_id")
# Cluster first: the two parties' constraints then take distinct names.
_PARTICIPANT_BY_CLUSTER = ("mission_participants.cluster_id", "mission_participants.mission_id")


class MeetingAvailability(Base):
    """The sessions a participant can meet in (a participant without a row: every session)."""

    __tablename__ = "meeting_availability"
    __table_args__ = (
        ForeignKeyConstraint(("mission_id", "cluster_id"), _PARTICIPANT, ondelete="CASCADE"),
    )

    mission_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    cluster_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sessions: Mapped[list[str]] = mapped_column(ARRAY(String(40)))


class MeetingRequest(Timestamped, Versioned, Base):
    """One participant asking another for a meeting."""

    __tablename__ = "meeting_requests"
    __table_args__ = (
        CheckConstraint(f"status IN {REQUEST_STATUSES}", name="status"),
        CheckConstraint("from_cluster_id <> to_cluster_id", name="two_parties"),
        ForeignKeyConstraint(("from_cluster_id", "mission_id"), _PARTICIPANT_BY_CLUSTER, ondelete="CASCADE"),
        ForeignKeyConstraint(("to_cluster_id", "mission_id"), _PARTICIPANT_BY_CLUSTER, ondelete="CASCADE"),
        # One open request per pair, whichever side asked.
        Index(
            "uq_meeting_requests_open_pair", "mission_id",
            text("LEAST(from_cluster_id, to_cluster_id)"), text("GREATEST(from_cluster_id, to_cluster_id)"),
            unique=True, postgresql_where=text("status IN ('pending', 'accepted')"),
        ),
        Index("ix_meeting_requests_mission_id_created_at", "mission_id", "created_at"),
        Index("ix_meeting_requests_to", "mission_id", "to_cluster_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    mission_id: Mapped[uuid.UUID]
    from_cluster_id: Mapped[uuid.UUID]
    to_cluster_id: Mapped[uuid.UUID]
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")


class Meeting(Timestamped, Versioned, Base):
    """An accepted request placed in a slot at a table."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(f"status IN {MEETING_STATUSES}", name="status"),
        CheckConstraint("table_number >= 1", name="table_number"),
        UniqueConstraint("mission_id", "starts_at", "table_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    mission_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_requests.id", ondelete="CASCADE"), unique=True)
    starts_at: Mapped[datetime] = mapped_column(Local)
    ends_at: Mapped[datetime] = mapped_column(Local)
    table_number: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), server_default="scheduled")


class AgendaToken(Base):
    """The secret in a participant's agenda feed URL (only its hash is kept)."""

    __tablename__ = "agenda_tokens"
    __table_args__ = (
        ForeignKeyConstraint(("mission_id", "cluster_id"), _PARTICIPANT, ondelete="CASCADE"),
    )

    mission_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    cluster_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
