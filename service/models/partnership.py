import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.cluster import Cluster
from service.models.language import language_check, language_column

PROGRAMMES = ("escp-4i", "escp-s3", "other")
ROLES = ("coordinator", "partner")

PARTNERSHIP_SEARCH = (
    "search_vector(language, name, 'A') || search_vector(language, acronym, 'A') || search_vector(language, objectives, 'B') || "
    "search_language(language)"
)


class Partnership(Timestamped, Versioned, Base):
    """A strategic partnership of clusters going to third-country markets together."""

    __tablename__ = "partnerships"
    __table_args__ = (
        language_check(),
        CheckConstraint("programme IN ('escp-4i', 'escp-s3', 'other')", name="programme"),
        CheckConstraint("period_end IS NULL OR period_start IS NULL OR period_end >= period_start", name="period"),
        Index("ix_partnerships_sectors", "sectors", postgresql_using="gin"),
        Index(
            "ix_partnerships_target_markets", "target_markets",
            postgresql_using="gin", postgresql_ops={"target_markets": "jsonb_path_ops"},
        ),
        Index("ix_partnerships_search", "search", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    acronym: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    programme: Mapped[str] = mapped_column(String(20))
    generation: Mapped[int | None] = mapped_column(SmallInteger)
    strand: Mapped[str | None] = mapped_column(String(120))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    objectives: Mapped[str | None] = mapped_column(Text)
    activities: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    website: Mapped[str | None] = mapped_column(String(2000))
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    target_markets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    language: Mapped[str | None] = language_column()
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(PARTNERSHIP_SEARCH, persisted=True), deferred=True)

    members: Mapped[list["PartnershipMember"]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan", passive_deletes=True,
        order_by="PartnershipMember.joined_at",
    )


class PartnershipMember(Base):
    """A cluster's membership of a partnership. Deleting a partnership removes its
    memberships; a cluster that is still a member cannot be deleted."""

    __tablename__ = "partnership_members"
    __table_args__ = (
        CheckConstraint("role IN ('coordinator', 'partner')", name="role"),
        Index("ix_partnership_members_cluster_id", "cluster_id"),
    )

    partnership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clusters.id", ondelete="RESTRICT"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    joined_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())

    partnership: Mapped[Partnership] = relationship(back_populates="members")
    cluster: Mapped["Cluster"] = relationship(lazy="raise")
