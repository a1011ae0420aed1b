import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Computed, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSQUERY
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, Timestamped, Versioned, new_id

# In the filter arrays below, the value that admits every opportunity: a search without a
# country filter holds {'*'}, and an opportunity looks itself up with its countries plus '*'.
ANY = "*"

SAVED_SEARCH_TEXT = "search_query(languages, q)"


class SavedSearch(Timestamped, Versioned, Base):
    """A search of opportunities kept under a name by the API key that made it: run on
    demand, read as an Atom feed, and matched against each new or changed opportunity."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        # The inverted index alerts use: one multicolumn GIN over the filters, so one lookup
        # per opportunity finds the searches whose every filter admits it.
        Index("ix_saved_searches_filters", "kinds", "countries", "sectors", "clusters", "partnerships", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    query: Mapped[dict[str, Any]] = mapped_column(JSONB)
    feed_token: Mapped[str] = mapped_column(String(64))
    # The query's filters as opportunities meet them (derived from query on every write).
    kinds: Mapped[list[str]] = mapped_column(ARRAY(String))
    countries: Mapped[list[str]] = mapped_column(ARRAY(String))
    sectors: Mapped[list[str]] = mapped_column(ARRAY(String))
    clusters: Mapped[list[str]] = mapped_column(ARRAY(String))
    partnerships: Mapped[list[str]] = mapped_column(ARRAY(String))
    deadline_after: Mapped[date | None]
    deadline_before: Mapped[date | None]
    open_only: Mapped[bool] = mapped_column(Boolean)
    q: Mapped[str | None] = mapped_column(String(500))
    # The languages q is stemmed in (lang or Accept-Language when saved, else the defaults).
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)))
    text_query: Mapped[Any] = mapped_column(TSQUERY, Computed(SAVED_SEARCH_TEXT, persisted=True), deferred=True)


class SavedSearchMatch(Base):
    """A (saved search, opportunity) pair already alerted, so that a change that keeps it
    matching does not alert again."""

    __tablename__ = "saved_search_matches"

    saved_search_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True)
    opportunity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    matched_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
