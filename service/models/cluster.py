import uuid
from typing import Any

from sqlalchemy import CheckConstraint, Computed, Index, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, Timestamped, Versioned, new_id
from service.models.language import language_check, language_column

LABELS = ("gold", "silver", "bronze", "none")

CLUSTER_SEARCH = (
    "search_vector(language, name, 'A') || search_vector(language, acronym, 'A') || search_vector(language, description, 'B') || "
    "search_language(language)"
)


class Cluster(Timestamped, Versioned, Base):
    """A cluster organisation: a network of firms and research bodies in one sector and region."""

    __tablename__ = "clusters"
    __table_args__ = (
        language_check(),
        CheckConstraint("label IN ('gold', 'silver', 'bronze', 'none')", name="label"),
        Index("ix_clusters_sectors", "sectors", postgresql_using="gin"),
        Index("ix_clusters_target_countries", "target_countries", postgresql_using="gin"),
        Index("ix_clusters_search", "search", postgresql_using="gin"),
        Index("ix_clusters_country", "country"),
        Index("ix_clusters_name_id", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    acronym: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    region_code: Mapped[str | None] = mapped_column(String(5))
    region_name: Mapped[str | None] = mapped_column(String(300))
    nuts_version: Mapped[str | None] = mapped_column(String(4))
    city: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str | None] = mapped_column(String(2000))
    email: Mapped[str | None] = mapped_column(String(254))
    description: Mapped[str | None] = mapped_column(Text)
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    member_count: Mapped[int | None]
    sme_count: Mapped[int | None]
    label: Mapped[str] = mapped_column(String(10), server_default="none")
    founded_year: Mapped[int | None] = mapped_column(SmallInteger)
    # [{"country": "US", "priority": 1}, ...]; jsonb keeps the priority beside the country and
    # a GIN index answers "targets US" with @>.
    target_markets: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    # The countries alone, for the GIN index behind filters and partner matching.
    target_countries: Mapped[list[str]] = mapped_column(
        ARRAY(String(2)), Computed("market_countries(target_markets)", persisted=True), deferred=True
    )
    language: Mapped[str | None] = language_column()
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(CLUSTER_SEARCH, persisted=True), deferred=True)
