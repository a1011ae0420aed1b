"""SQL for single opportunities, and the lexemes search highlighting marks (the search
itself has its own query modules)."""

import uuid
from collections.abc import Iterable
from datetime import date

import asyncpg
from sqlalchemy import ColumnElement, Date, Row, Select, Uuid, and_, bindparam, case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.util import AliasedClass

from service.kit.driver import CompiledStatement, fetch_row
from service.kit.filters import text_query
from service.models import Cluster, Opportunity, Partnership

# An opportunity beside its status derived for a day.
OpportunityWithStatus = Row[Opportunity, str]


def is_open(
    today: date | ColumnElement[date], o: type[Opportunity] | AliasedClass[Opportunity] = Opportunity
) -> ColumnElement[bool]:
    """Open on that day: not withdrawn and not past its deadline (o: the table or a sample of it)."""
    return and_(~o.withdrawn, or_(o.deadline.is_(None), o.deadline >= today))


def status(today: date | ColumnElement[date]) -> ColumnElement[str]:
    return case((Opportunity.withdrawn, "withdrawn"), (is_open(today), "open"), else_="closed")


def _by_id(for_update: bool) -> Select[Opportunity, str]:
    # Built once with bound parameters: a get by id is the hottest read there is.
    stmt = (
        select(Opportunity, status(bindparam("today", type_=Date)).label("status"))
        .options(joinedload(Opportunity.posted_by_cluster), joinedload(Opportunity.posted_by_partnership))
        .where(Opportunity.id == bindparam("id", type_=Uuid))
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=Opportunity) if for_update else stmt


BY_ID = {False: _by_id(False), True: _by_id(True)}

# The read of one opportunity as served: its columns with its poster's, in one row, run on the
# driver (kit/driver): no ORM objects are needed to answer a GET.
_READ_COLUMNS = ("id", "external_id", "kind", "title", "summary", "description", "countries", "sectors", "deadline",
                 "url", "contact", "withdrawn", "language", "created_at", "updated_at", "poster_name", "poster_url")
READ_BY_ID = CompiledStatement(
    select(
        *(getattr(Opportunity, name) for name in _READ_COLUMNS),
        status(bindparam("today", type_=Date)).label("status"),
        *(getattr(Cluster, name).label(f"cluster_{name}") for name in ("id", "slug", "name", "acronym", "country")),
        *(getattr(Partnership, name).label(f"partnership_{name}") for name in ("id", "slug", "acronym", "name")),
    )
    .outerjoin(Cluster, Cluster.id == Opportunity.posted_by_cluster_id)
    .outerjoin(Partnership, Partnership.id == Opportunity.posted_by_partnership_id)
    .where(Opportunity.id == bindparam("id", type_=Uuid))
)


async def read(session: AsyncSession, opportunity_id: uuid.UUID, today: date) -> asyncpg.Record | None:
    """The opportunity as served (columns, status, poster's columns prefixed), or None."""
    return await fetch_row(session, READ_BY_ID, {"id": opportunity_id, "today": today})


async def get(
    session: AsyncSession, opportunity_id: uuid.UUID, today: date, *, for_update: bool = False
) -> OpportunityWithStatus | None:
    """(opportunity, status) or None."""
    return (await session.execute(BY_ID[for_update], {"id": opportunity_id, "today": today})).one_or_none()


async def query_tree(session: AsyncSession, q: str, languages: list[str]) -> str | None:
    """PostgreSQL's querytree of a text query: its terms as the lexemes the index holds."""
    tree: str | None = await session.scalar(select(func.querytree(text_query(q, languages))))
    return tree


# Each word with its lexemes as the index holds them in a language (stemmed, and exact),
# for a whole page of texts in one round trip. '' stands for an unknown language.
_WORD_LEXEMES = text(
    "SELECT l, w, tsvector_to_array(search_vector(nullif(l, ''), w, 'A')) "
    "FROM unnest(CAST(:languages AS text[]), CAST(:words AS text[])) AS t(l, w)"
)


async def word_lexemes(session: AsyncSession, words: Iterable[tuple[str, str]]) -> dict[tuple[str, str], frozenset[str]]:
    """(language, word) -> its lexemes; words without one (stop words) map to the exact form only."""
    pairs = sorted(words)
    rows = await session.execute(_WORD_LEXEMES, {"languages": [p[0] for p in pairs], "words": [p[1] for p in pairs]})
    return {(language, word): frozenset(lexemes) for language, word, lexemes in rows if lexemes}
