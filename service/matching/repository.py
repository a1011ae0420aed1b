"""Partner matching in SQL: every candidate cluster scored in one statement.

Scores (documented in the README): 4 points per shared sector (at most 3 counted), 2 per
complementary sector (at most 3), 1 per shared target market (at most 5), and for location
+2 another country or +1 another region of the same country (cluster matches), or +3 a
cluster located in a country the opportunity targets (opportunity matches). Sectors are
complementary when some partnership combines them. Candidates that share nothing (no
shared or complementary sector, no shared market) are not listed; neither are the seeker
itself nor clusters already in a partnership with it.
"""

import uuid

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.pagination import Cursor
from service.matching.schemas import MatchQuery

# The seeker, as (id, country, region, sectors, markets, excluded ids, location rule).
CLUSTER_SEEKER = """
    SELECT c.id, c.country, c.region_code, c.sectors,
           ARRAY(SELECT e->>'country' FROM jsonb_array_elements(c.target_markets) e) AS markets,
           ARRAY(SELECT DISTINCT other.cluster_id FROM partnership_members mine
                 JOIN partnership_members other USING (partnership_id)
                 WHERE mine.cluster_id = c.id) || c.id AS excluded
    FROM clusters c WHERE c.id = :seeker
"""

OPPORTUNITY_SEEKER = """
    SELECT o.id, NULL::varchar AS country, NULL::varchar AS region_code, o.sectors, o.countries AS markets,
           ARRAY(SELECT cluster_id FROM partnership_members WHERE partnership_id = o.posted_by_partnership_id)
             || ARRAY(SELECT o.posted_by_cluster_id WHERE o.posted_by_cluster_id IS NOT NULL) AS excluded
    FROM opportunities o WHERE o.id = :seeker
"""

CLUSTER_LOCATION = """
    CASE WHEN c.country <> seeker.country THEN 'different-country'
         WHEN c.region_code IS DISTINCT FROM seeker.region_code THEN 'different-region'
         ELSE 'same-region' END
"""
CLUSTER_LOCATION_POINTS = "CASE location WHEN 'different-country' THEN 2 WHEN 'different-region' THEN 1 ELSE 0 END"

OPPORTUNITY_LOCATION = "CASE WHEN c.country = ANY(seeker.markets) THEN 'in-target-country' ELSE 'elsewhere' END"
OPPORTUNITY_LOCATION_POINTS = "CASE location WHEN 'in-target-country' THEN 3 ELSE 0 END"

MATCHES = """
WITH seeker AS ({seeker}),
complements AS (
    SELECT coalesce(array_agg(DISTINCT other), '{{}}') AS codes
    FROM partnerships p, unnest(p.sectors) mine, unnest(p.sectors) other, seeker
    WHERE mine = ANY(seeker.sectors) AND NOT other = ANY(seeker.sectors)
),
candidates AS (
    SELECT c.id, c.slug, c.name, c.acronym, c.country,
           ARRAY(SELECT unnest(c.sectors) INTERSECT SELECT unnest(seeker.sectors) ORDER BY 1) AS shared_sectors,
           ARRAY(SELECT unnest(c.sectors) INTERSECT SELECT unnest(complements.codes) ORDER BY 1) AS complementary_sectors,
           ARRAY(SELECT e->>'country' FROM jsonb_array_elements(c.target_markets) e
                 INTERSECT SELECT unnest(seeker.markets) ORDER BY 1) AS shared_target_markets,
           {location} AS location
    FROM clusters c, seeker, complements
    WHERE NOT c.id = ANY(seeker.excluded) {filters}
),
scored AS (
    SELECT *, 4 * least(cardinality(shared_sectors), 3) + 2 * least(cardinality(complementary_sectors), 3)
              + least(cardinality(shared_target_markets), 5) + {location_points} AS score
    FROM candidates
    WHERE cardinality(shared_sectors) + cardinality(complementary_sectors) + cardinality(shared_target_markets) > 0
)
SELECT * FROM scored {after} ORDER BY score DESC, id DESC LIMIT :limit
"""


def _statement(seeker: str, location: str, location_points: str, query: MatchQuery, cursor: Cursor | None):
    filters, params = [], {}
    if query.country:
        filters.append("AND c.country = ANY(:countries)")
        params["countries"] = query.country
    if query.sector:
        filters.append("AND c.sectors && :sectors")
        params["sectors"] = query.sector
    if query.target_market:
        filters.append(
            "AND EXISTS (SELECT 1 FROM jsonb_array_elements(c.target_markets) e WHERE e->>'country' = ANY(:markets))"
        )
        params["markets"] = query.target_market
    after = ""
    if cursor is not None:
        after = "WHERE (score, id) < (:after_score, :after_id)"
        params |= {"after_score": cursor.value, "after_id": cursor.id}
    sql = MATCHES.format(
        seeker=seeker, location=location, location_points=location_points, filters=" ".join(filters), after=after
    )
    stmt = text(sql)
    for name in ("countries", "sectors", "markets"):
        if name in params:
            stmt = stmt.bindparams(bindparam(name, type_=ARRAY(String)))
    return stmt, params


async def matches(session: AsyncSession, kind: str, seeker_id: uuid.UUID, query: MatchQuery, cursor: Cursor | None) -> list:
    if kind == "cluster":
        stmt, params = _statement(CLUSTER_SEEKER, CLUSTER_LOCATION, CLUSTER_LOCATION_POINTS, query, cursor)
    else:
        stmt, params = _statement(OPPORTUNITY_SEEKER, OPPORTUNITY_LOCATION, OPPORTUNITY_LOCATION_POINTS, query, cursor)
    rows = await session.execute(stmt, params | {"seeker": seeker_id, "limit": query.limit + 1})
    return list(rows)
