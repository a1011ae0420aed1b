"""Saved-search alert matching: the inverted index against running every saved search.

    python -m tests.perf.saved_searches [--database-url URL] [--saved-searches 100000] [--new 1000]
                                        [--naive-searches 1000] [--naive-opportunities 30]

1. In a scratch database (on --database-url, TEST_DATABASE_URL, else an embedded
   PostgreSQL), generates opportunities with the search benchmark's generator and
   --saved-searches saved searches of a realistic mix: most with two or three structured
   filters (target country 90%, sector 85%, kind 40%, a poster, a deadline range), 40%
   with a text query, 2% with none; countries and sectors as skewed as the opportunities'.
2. Looks each of --new opportunities (a day's worth) up the way alerts do
   (index_query.lookup): per-opportunity time (p50, p99), the day's total, and the
   candidates whose text query was tried against the matches.
3. The naive way on a sample: every one of --naive-searches saved searches run against each
   of --naive-opportunities opportunities, with the search's own conditions restricted to
   that opportunity; the per-opportunity time is scaled to the full number of saved
   searches. The sample's matches are checked to agree with the index's.
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.db import create_engine, create_sessionmaker, start_embedded, to_asyncpg_url
from service.migrate import upgrade
from service.models import Opportunity, SavedSearch
from service.opportunities.search_conditions import opportunity_facets, opportunity_filters
from service.opportunities.search_plan import plan
from service.saved_searches import index_query
from service.saved_searches.schemas import SavedQuery
from tests.conftest import _asyncpg_dsn, create_scratch_database, drop_database
from tests.perf import dataset

HERE = Path(__file__).parent
OPPORTUNITIES = 20_000
CLUSTERS, PARTNERSHIPS = 500, 50
WORDS = ["photonics", "distributors", "research partners", "pilot customers", "innovation", "holography",
         "medical devices", "\"joint funding\"", "aerospace -defence", "packaging", "trade fair", "investors",
         "cooperación", "laboratories", "certification", "agrifood or biotech"]


def saved_query(g: dataset.Generator) -> dict:
    """One saved query of the mix."""
    rng, query = g.random, {}
    if rng.random() < 0.02:
        return query
    if rng.random() < 0.9:
        query["country"] = g.markets(1, 2)
    if rng.random() < 0.85:
        query["sector"] = g.sectors(1, 2)
    if rng.random() < 0.4:
        query["kind"] = rng.sample(dataset.KINDS, rng.randint(1, 2))
    if rng.random() < 0.4:
        query["q"] = rng.choice(WORDS)
    if rng.random() < 0.05:
        query["cluster"] = [f"bench-cluster-{rng.randrange(CLUSTERS)}"]
    elif rng.random() < 0.03:
        query["partnership"] = [f"bench-partnership-{rng.randrange(PARTNERSHIPS)}"]
    if rng.random() < 0.1:
        query["deadline_after"] = "2027-01-01"
    if rng.random() < 0.2:
        query["open"] = False
    return query


async def _fill(url: URL, saved_searches: int) -> None:
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        today = datetime.now(UTC).date()
        await dataset.generate(connection, clusters=CLUSTERS, partnerships=PARTNERSHIPS, opportunities=OPPORTUNITIES,
                               missions=10, today=today, progress=lambda m: print(" ", m))
        key = await connection.fetchval(
            "INSERT INTO api_keys (id, prefix, secret_hash, name, scope) VALUES (gen_random_uuid(), 'bench', '\\x00', "
            "'bench', 'write') RETURNING id"
        )
        g, rows = dataset.Generator(seed=11), []
        for i in range(saved_searches):
            query = SavedQuery.model_validate(saved_query(g))
            columns = index_query.filter_columns(query)
            rows.append((uuid.uuid4(), key, f"Saved search {i}", json.dumps(query.model_dump(mode="json", exclude_defaults=True)),
                         secrets.token_urlsafe(32), *columns.values()))
        names = ["id", "owner_key_id", "name", "query", "feed_token", *index_query.filter_columns(SavedQuery()).keys()]
        await connection.execute("SET maintenance_work_mem = '512MB'")
        await connection.copy_records_to_table("saved_searches", records=rows, columns=names)
        await connection.execute("VACUUM ANALYZE saved_searches")
    finally:
        await connection.close()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def _indexed(session: AsyncSession, opportunity_ids: list[uuid.UUID]) -> dict:
    today = datetime.now(UTC).date()
    times, candidates, matches, found = [], 0, 0, {}
    for opportunity_id in opportunity_ids:
        started = time.perf_counter()
        lookup = await index_query.lookup(session, opportunity_id, today)
        times.append(time.perf_counter() - started)
        candidates, matches = candidates + lookup.candidates, matches + len(lookup.matched)
        found[opportunity_id] = set(lookup.matched)
    return {"times": times, "candidates": candidates, "matches": matches, "found": found}


async def _naive(session: AsyncSession, opportunity_ids: list[uuid.UUID], searches: list[tuple[uuid.UUID, dict]]) -> dict:
    """Each saved search's own search conditions, tried on one opportunity at a time."""
    today = datetime.now(UTC).date()
    plans = [(saved_id, plan(SavedQuery.model_validate(query), today, limit=1)) for saved_id, query in searches]
    the_one = bindparam("opportunity", type_=Uuid)
    times, found = [], {}
    for opportunity_id in opportunity_ids:
        started = time.perf_counter()
        found[opportunity_id] = set()
        for saved_id, p in plans:
            stmt = select(Opportunity.id).where(
                Opportunity.id == the_one, *opportunity_filters(p.shape), *opportunity_facets(p.shape).values()
            )
            if p.shape.wants_opportunities and await session.scalar(stmt, p.params | {"opportunity": opportunity_id}):
                found[opportunity_id].add(saved_id)
        times.append(time.perf_counter() - started)
    return {"times": times, "found": found}


async def measure(url: URL, args) -> dict:
    engine = create_engine(url, Settings(database_url=url.render_as_string(hide_password=False)))
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            everything = list(await session.scalars(select(Opportunity.id).order_by(Opportunity.id)))
            new = random.Random(5).sample(everything, args.new)
            await _indexed(session, new[:20])  # warm the caches and the prepared statements
            indexed = await _indexed(session, new)
            searches = [(r.id, r.query) for r in (await session.execute(
                select(SavedSearch.id, SavedSearch.query).order_by(SavedSearch.id).limit(args.naive_searches)
            )).all()]
            naive = await _naive(session, new[: args.naive_opportunities], searches)
    finally:
        await engine.dispose()
    sampled = {saved_id for saved_id, _ in searches}
    for opportunity_id, matched in naive["found"].items():
        assert matched == indexed["found"][opportunity_id] & sampled, f"the index and the search disagree on {opportunity_id}"
    naive_per = [t * args.saved_searches / len(searches) for t in naive["times"]]
    return {
        "saved_searches": args.saved_searches, "new_opportunities": args.new,
        "indexed_p50_ms": _percentile(indexed["times"], 0.5) * 1000,
        "indexed_p99_ms": _percentile(indexed["times"], 0.99) * 1000,
        "indexed_total_s": sum(indexed["times"]),
        "candidates_per_opportunity": indexed["candidates"] / args.new,
        "matches_per_opportunity": indexed["matches"] / args.new,
        "naive_sample": f"{len(searches)} saved searches x {len(naive['times'])} opportunities",
        "naive_per_opportunity_s_scaled": statistics.median(naive_per),
        "naive_total_s_scaled": statistics.mean(naive_per) * args.new,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--saved-searches", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--naive-searches", type=int, default=1_000)
    parser.add_argument("--naive-opportunities", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="Keep the database (its name is printed) to look into.")
    args = parser.parse_args()
    server = to_asyncpg_url(args.database_url) if args.database_url else start_embedded(HERE / ".pgdata")

    async def run() -> dict:
        url = await create_scratch_database(server)
        print(f"database {url.database}")
        try:
            engine = create_engine(url, Settings(database_url=url.render_as_string(hide_password=False)))
            await upgrade(engine)
            await engine.dispose()
            print(f"generating {OPPORTUNITIES:,} opportunities and {args.saved_searches:,} saved searches")
            await _fill(url, args.saved_searches)
            return await measure(url, args)
        finally:
            if not args.keep:
                await drop_database(server, url)

    figures = asyncio.run(run())
    for name, value in figures.items():
        print(f"{name:>32}: {value:,.3f}" if isinstance(value, float) else f"{name:>32}: {value}")
    print(f"{'speed-up':>32}: {figures['naive_total_s_scaled'] / figures['indexed_total_s']:,.0f}x")


if __name__ == "__main__":
    main()
