"""Partner matching in SQL.

Scores (documented in the README): 4 points per shared sector (at most 3 counted), 2 per
complementary sector (at most 3), 1 per shared target market (at most 5), and for location
+2 another country or +1 another region of the same country (cluster matches), or +3 a
cluster located in a country the opportunity targets (opportunity matches). Sectors are
complementary when partnerships combine them: the five sectors most often combined with the
seeker's, in partnerships that share one of its sectors. Candidates that share nothing (no
shared or complementary sector, no shared market) are not listed; neither are the seeker
itself nor clusters already in a partnership with it.

Two statements: the seeker's profile first (its sectors, markets, the sectors partnerships
combine with them, whom to leave out), then the candidates, with that profile as plain
array parameters. Candidates are scored from counts (one pass over their sectors and
markets each); the lists of shared sectors and markets, the reasons, are built for the page
only.

Scoring every candidate is what costs: most clusters share a market or a complementary
sector with anyone. So the candidates sharing a sector (found by the GIN index, a fraction of
the rest) are ranked first; one sharing no sector scores at most `_unshared_ceiling` points,
so when that ranking's page ends above it, no other candidate could enter the page and it is
the answer. Otherwise (a sparse profile, a deep page) every candidate is scored.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Row, String, TextClause, Uuid, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.lookup import ref_clause
from service.kit.pagination import Cursor
from service.matching.schemas import MatchQuery
from service.models import Cluster

COMPLEMENTARY_SECTORS = 5
COMPLEMENTS = f"""
    ARRAY(SELECT other FROM partnerships p, unnest(p.sectors) other
          WHERE p.sectors && {{sectors}} AND NOT other = ANY({{sectors}})
          GROUP BY other ORDER BY count(*) DESC, other LIMIT {COMPLEMENTARY_SECTORS})
"""

CLUSTER_SEEKER = text(f"""
    SELECT c.sectors, c.target_countries AS markets, c.country, c.region_code AS region,
           {COMPLEMENTS.format(sectors="c.sectors")} AS complements,
           ARRAY(SELECT other.cluster_id FROM partnership_members mine
                 JOIN partnership_members other USING (partnership_id)
                 WHERE mine.cluster_id = c.id) || c.id AS excluded
    FROM clusters c WHERE c.id = :seeker
""")

OPPORTUNITY_SEEKER = text(f"""
    SELECT o.sectors, o.countries AS markets, NULL AS country, NULL AS region,
           {COMPLEMENTS.format(sectors="o.sectors")} AS complements,
           ARRAY(SELECT cluster_id FROM partnership_members WHERE partnership_id = o.posted_by_partnership_id)
             || ARRAY(SELECT o.posted_by_cluster_id WHERE o.posted_by_cluster_id IS NOT NULL) AS excluded
    FROM opportunities o WHERE o.id = :seeker
""")

ANY_OVERLAP = "(c.sectors && :sectors OR c.sectors && :complements OR c.target_countries && :markets)"
SECTOR_OVERLAP = "c.sectors && :sectors"
LOCATION = {
    "cluster": (
        "CASE WHEN c.country <> :country THEN 'different-country' "
        "WHEN c.region_code IS DISTINCT FROM :region THEN 'different-region' ELSE 'same-region' END",
        "CASE location WHEN 'different-country' THEN 2 WHEN 'different-region' THEN 1 ELSE 0 END",
    ),
    "opportunity": (
        "CASE WHEN c.country = ANY(:markets) THEN 'in-target-country' ELSE 'elsewhere' END",
        "CASE location WHEN 'in-target-country' THEN 3 ELSE 0 END",
    ),
}

CANDIDATES = """
WITH scored AS (
    SELECT c.id, c.slug, c.name, c.acronym, c.country, c.sectors, c.target_countries, {location} AS location,
           counts.shared, counts.complementary, markets.shared_markets
    FROM clusters c,
         LATERAL (SELECT count(*) FILTER (WHERE s = ANY(:sectors)) AS shared,
                         count(*) FILTER (WHERE s = ANY(:complements)) AS complementary
                  FROM unnest(c.sectors) s) counts,
         LATERAL (SELECT count(*) FILTER (WHERE m = ANY(:markets)) AS shared_markets
                  FROM unnest(c.target_countries) m) markets
    WHERE {candidates} AND NOT c.id = ANY(:excluded) {filters}
),
page AS (
    SELECT *, 4 * least(shared, 3) + 2 * least(complementary, 3) + least(shared_markets, 5)
              + {location_points} AS score
    FROM scored
    WHERE shared + complementary + shared_markets > 0
)
SELECT id, slug, name, acronym, country, score, location,
       ARRAY(SELECT s FROM unnest(sectors) s WHERE s = ANY(:sectors) ORDER BY s) AS shared_sectors,
       ARRAY(SELECT s FROM unnest(sectors) s WHERE s = ANY(:complements) ORDER BY s) AS complementary_sectors,
       ARRAY(SELECT m FROM unnest(target_countries) m WHERE m = ANY(:markets) ORDER BY m) AS shared_target_markets
FROM (SELECT * FROM page {after} ORDER BY score DESC, id DESC LIMIT :limit) top
ORDER BY score DESC, id DESC
"""

ARRAYS = {"sectors": String, "complements": String, "markets": String, "countries": String, "filter_sectors": String,
          "filter_markets": String, "excluded": Uuid, "candidates": Uuid}


@dataclass
class Seeker:
    sectors: list[str]
    markets: list[str]
    country: str | None
    region: str | None
    complements: list[str]
    excluded: list[uuid.UUID]


async def cluster_id(session: AsyncSession, ref: str) -> uuid.UUID | None:
    """The id of the cluster a client names by id or slug, to match partners for."""
    return await session.scalar(select(Cluster.id).where(ref_clause(Cluster, ref)))


async def seeker(session: AsyncSession, kind: str, seeker_id: uuid.UUID) -> Seeker | None:
    statement = CLUSTER_SEEKER if kind == "cluster" else OPPORTUNITY_SEEKER
    row = (await session.execute(statement, {"seeker": seeker_id})).one_or_none()
    return Seeker(**row._asdict()) if row else None


def _unshared_ceiling(kind: str, profile: Seeker) -> int:
    """The highest score a candidate sharing no sector with this seeker can reach: all its
    complementary sectors and markets (up to the caps), the best location. Keep in step
    with CANDIDATES and LOCATION."""
    return 2 * min(len(profile.complements), 3) + min(len(profile.markets), 5) + (2 if kind == "cluster" else 3)


# A candidate as CANDIDATES selects it: id, slug, name..., score and the reasons.
MatchRow = Row[*tuple[Any, ...]]


def _statement(
    kind: str, query: MatchQuery, cursor: Cursor | None, candidates: str
) -> tuple[TextClause, dict[str, object]]:
    filters: list[str] = []
    params: dict[str, object] = {}
    if query.country:
        filters.append("AND c.country = ANY(:countries)")
        params["countries"] = query.country
    if query.sector:
        filters.append("AND c.sectors && :filter_sectors")
        params["filter_sectors"] = query.sector
    if query.target_market:
        filters.append("AND c.target_countries && :filter_markets")
        params["filter_markets"] = query.target_market
    after = ""
    if cursor is not None:
        after = "WHERE (score, id) < (:after_score, :after_id)"
        params |= {"after_score": cursor.value, "after_id": cursor.id}
    location, points = LOCATION[kind]
    sql = CANDIDATES.format(
        location=location, location_points=points, candidates=candidates, filters=" ".join(filters), after=after
    )
    stmt = text(sql)
    binds: list[BindParameter[Any]] = [bindparam(name, type_=ARRAY(element)) for name, element in ARRAYS.items() if f":{name}" in sql]
    return stmt.bindparams(*binds), params


async def matches(session: AsyncSession, kind: str, profile: Seeker, query: MatchQuery, cursor: Cursor | None) -> list[MatchRow]:
    """The page (and one row more, to tell whether another page follows)."""
    values = {
        "sectors": profile.sectors, "complements": profile.complements, "markets": profile.markets,
        "excluded": profile.excluded, "limit": query.limit + 1,
    }
    if kind == "cluster":
        values |= {"country": profile.country, "region": profile.region}
    if profile.sectors:
        stmt, params = _statement(kind, query, cursor, SECTOR_OVERLAP)
        rows = list(await session.execute(stmt, params | values))
        if len(rows) == query.limit + 1 and rows[-1].score > _unshared_ceiling(kind, profile):
            return rows
    stmt, params = _statement(kind, query, cursor, ANY_OVERLAP)
    return list(await session.execute(stmt, params | values))


async def among(
    session: AsyncSession, profile: Seeker, candidates: list[uuid.UUID], limit: int,
) -> list[Row[*tuple[Any, ...]]]:
    """Matches for a cluster among these candidates only (the other participants of a
    mission), best first, scored as every cluster match is."""
    stmt, params = _statement("cluster", MatchQuery(), None, "c.id = ANY(:candidates)")
    values = {
        "sectors": profile.sectors, "complements": profile.complements, "markets": profile.markets,
        "excluded": profile.excluded, "limit": limit, "country": profile.country, "region": profile.region,
        "candidates": candidates,
    }
    return list(await session.execute(stmt, params | values))
