import uuid
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    ColumnExpressionArgument,
    Computed,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.cluster import Cluster
from service.models.language import language_check, language_column
from service.models.partnership import Partnership

OPPORTUNITY_KINDS = ("partner-search", "cooperation-offer", "cooperation-request", "call", "event")

OPPORTUNITY_SEARCH = (
    "search_vector(language, title, 'A') || search_vector(language, summary, 'B') || "
    "search_vector(language, description, 'C') || search_vector('en', sector_words(sectors), 'D') || "
    "search_language(language)"
)

# Searches sort by deadline with the open-ended ones last; a non-null sort key keeps the
# keyset predicate a single index range (no "OR deadline IS NULL" branch).
NO_DEADLINE = "'9999-12-31'::date"


def deadline_key(column: ColumnExpressionArgument[date | None]) -> ColumnElement[date]:
    return func.coalesce(column, literal_column(NO_DEADLINE))


class Opportunity(Timestamped, Versioned, Base):
    """Something posted for clusters to act on abroad: a partner search, a cooperation offer
    or request, a call, an event. Open until its deadline unless withdrawn."""

    __tablename__ = "opportunities"
    __table_args__ = (
        language_check(),
        CheckConstraint(f"kind IN {OPPORTUNITY_KINDS}", name="kind"),
        CheckConstraint("num_nonnulls(posted_by_cluster_id, posted_by_partnership_id, poster_name) = 1", name="one_poster"),
        Index("ix_opportunities_search", "search", postgresql_using="gin"),
        Index("ix_opportunities_countries", "countries", postgresql_using="gin"),
        Index("ix_opportunities_sectors", "sectors", postgresql_using="gin"),
        # Written as PostgreSQL prints it back, so autogenerate sees no difference. It carries
        # what the search's filters and facet counts read, so an open search's facets are
        # counted from the index alone (an opportunity's text makes the table ten times wider).
        Index(
            "ix_opportunities_deadline_key", text(f"COALESCE(deadline, {NO_DEADLINE})"), "id",
            postgresql_include=[
                "withdrawn", "deadline", "kind", "countries", "sectors", "language",
                "posted_by_cluster_id", "posted_by_partnership_id",
            ],
        ),
        Index("ix_opportunities_created_at_id", "created_at", "id"),
        Index("ix_opportunities_posted_by_cluster_id", "posted_by_cluster_id"),
        Index("ix_opportunities_posted_by_partnership_id", "posted_by_partnership_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default="{}")
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    posted_by_cluster_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"))
    posted_by_partnership_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partnerships.id", ondelete="RESTRICT"))
    poster_name: Mapped[str | None] = mapped_column(String(300))
    poster_url: Mapped[str | None] = mapped_column(String(2000))
    deadline: Mapped[date | None]
    url: Mapped[str | None] = mapped_column(String(2000))
    contact: Mapped[str | None] = mapped_column(String(300))
    withdrawn: Mapped[bool] = mapped_column(Boolean, server_default="false")
    language: Mapped[str | None] = language_column()
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(OPPORTUNITY_SEARCH, persisted=True), deferred=True)

    posted_by_cluster: Mapped[Cluster | None] = relationship(lazy="raise")
    posted_by_partnership: Mapped[Partnership | None] = relationship(lazy="raise")
