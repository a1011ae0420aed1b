"""The inverted index of saved searches, and the SQL that looks an opportunity up in it.

Each saved search stores its structured filters (kind, country, sector, poster, deadline
range, open) in columns beside the query; the array filters carry '*' when the query does
not filter on them, and are covered by one multicolumn GIN index. An opportunity looks
itself up with its own values plus '*' per array, so one statement reads only the searches
whose every filter admits it (the candidates); only their text queries are then tried, on
that one opportunity's tsvector. Nothing scales with the number of saved searches but the
candidates.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, String, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from service.models.saved_search import ANY
from service.opportunities.schemas import SearchQuery


def _admits(values: list[str]) -> list[str]:
    return list(values) or [ANY]


def filter_columns(query: SearchQuery) -> dict[str, Any]:
    """The index columns of a saved query: what an opportunity must have to be a candidate."""
    kinds = [k for k in query.kind if k != "mission"]
    return {
        # Only missions asked for: no opportunity is ever a candidate (an empty array
        # overlaps nothing).
        "kinds": kinds if query.kind else [ANY],
        "countries": _admits(query.country), "sectors": _admits(query.sector),
        "clusters": _admits(query.cluster), "partnerships": _admits(query.partnership),
        "deadline_after": query.deadline_after, "deadline_before": query.deadline_before,
        "open_only": query.open, "q": query.q,
    }


_OPPORTUNITY = text("""
SELECT o.kind, o.countries, o.sectors, o.deadline, o.withdrawn, c.slug AS cluster, p.slug AS partnership,
       o.search::text AS search
FROM opportunities o
LEFT JOIN clusters c ON c.id = o.posted_by_cluster_id
LEFT JOIN partnerships p ON p.id = o.posted_by_partnership_id
WHERE o.id = :id
""").bindparams(bindparam("id", type_=Uuid))

# The text query is tried only on the rows the index admitted, against the opportunity's
# tsvector sent as a parameter: read from its row in the statement, a long description's
# compressed tsvector would be decompressed again for every candidate.
_CANDIDATES = text("""
SELECT s.id, (s.text_query IS NULL OR CAST(:search AS tsvector) @@ s.text_query) AS matched
FROM saved_searches s
WHERE s.kinds && :kinds AND s.countries && :countries AND s.sectors && :sectors
  AND s.clusters && :clusters AND s.partnerships && :partnerships
  AND (s.deadline_after IS NULL OR s.deadline_after <= :deadline)
  AND (s.deadline_before IS NULL OR s.deadline_before >= :deadline)
  AND (NOT s.open_only OR :open)
""").bindparams(
    bindparam("search", type_=String), bindparam("deadline", type_=Date),
    *(bindparam(name, type_=ARRAY(String)) for name in ("kinds", "countries", "sectors", "clusters", "partnerships")),
)


@dataclass(frozen=True)
class Lookup:
    candidates: int  # saved searches whose filters admit the opportunity
    matched: list[uuid.UUID]  # those whose text query matches it too


async def lookup(session: AsyncSession, opportunity_id: uuid.UUID, today: date) -> Lookup:
    """The saved searches an opportunity matches today (none when it no longer exists)."""
    o = (await session.execute(_OPPORTUNITY, {"id": opportunity_id})).one_or_none()
    if o is None:
        return Lookup(0, [])
    is_open = not o.withdrawn and (o.deadline is None or o.deadline >= today)
    # Planned for these values: how many searches admit a country or sector varies a
    # hundredfold, and the tsvector parameter is then parsed once, not per candidate.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = (await session.execute(_CANDIDATES, {
        "search": o.search, "deadline": o.deadline, "open": is_open,
        "kinds": [o.kind, ANY], "countries": [*o.countries, ANY], "sectors": [*o.sectors, ANY],
        "clusters": [o.cluster or ANY, ANY], "partnerships": [o.partnership or ANY, ANY],
    })).all()
    return Lookup(len(rows), [row.id for row in rows if row.matched])
