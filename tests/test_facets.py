"""Facet counts: the one-pass counts against a plain count per facet on varied data, ties
and empty results, where exact counting stops, the margins of sampled counts, how long a
search's counts are reused, and that an open search's counts read an index, not the table."""

import random
from collections import Counter
from datetime import date

import pytest
from cachetools import TTLCache

from service.config import SearchSettings
from service.opportunities import facets
from service.opportunities.schemas import SearchQuery
from service.opportunities.search_plan import plan
from tests import factories

KINDS = ["partner-search", "cooperation-offer", "cooperation-request", "call", "event"]
COUNTRIES = ["US", "CA", "JP", "BR", "IN"]
SECTORS = ["photonics", "medtech", "aerospace", "packaging"]


@pytest.fixture
async def varied(client) -> list[dict]:
    """Forty opportunities and six missions taking applications on 2030-01-15, of random
    kinds, countries and sectors (seeded), plus a closed opportunity and a mission not yet
    taking applications, which no count may include. As rows a count sees: per facet, the
    values the row counts under."""
    rng = random.Random(15)
    rows = []
    for _ in range(40):
        kind, countries, sectors = rng.choice(KINDS), rng.sample(COUNTRIES, rng.randint(1, 3)), rng.sample(SECTORS, rng.randint(1, 2))
        await factories.create(client, "/v1/opportunities", factories.opportunity(
            kind=kind, countries=countries, sectors=sectors, deadline=rng.choice([None, "2030-02-01", "2030-05-01"]),
        ))
        rows.append({"kind": [kind], "country": countries, "sector": sectors})
    for _ in range(6):
        country, sectors = rng.choice(COUNTRIES), rng.sample(SECTORS, rng.randint(1, 2))
        await factories.create(client, "/v1/missions", factories.mission(
            destination_country=country, sectors=sectors, applications_open_on="2030-01-01",
        ))
        rows.append({"kind": ["mission"], "country": [country], "sector": sectors})
    await factories.create(client, "/v1/opportunities", factories.opportunity(kind="call", deadline="2030-01-01"))
    await factories.create(client, "/v1/missions", factories.mission(applications_open_on="2030-02-01"))
    return rows


def _plain_counts(rows: list[dict], filters: dict[str, list[str]]) -> dict[str, list[tuple[str, int]]]:
    """Per facet, the rows passing every other facet's filter, counted by value; most first,
    ties by value."""
    found = {}
    for facet in ("kind", "country", "sector"):
        counter: Counter[str] = Counter()
        for row in rows:
            if all(set(row[other]) & set(selected) for other, selected in filters.items() if other != facet):
                counter.update(row[facet])
        found[facet] = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return found


def _answered(page: dict) -> dict[str, list[tuple[str, int]]]:
    return {name: [(f["value"], f["count"]) for f in page["facets"][name]] for name in ("kind", "country", "sector")}


@pytest.mark.parametrize("filters", [
    {},
    {"country": ["US"]},
    {"kind": ["call", "mission"], "sector": ["photonics"]},
    {"kind": ["event"], "country": ["JP", "BR"], "sector": ["medtech", "aerospace"]},
    {"country": ["CA", "IN"], "sector": ["packaging"]},
    {"kind": ["mission"], "country": ["US"]},
    {"country": ["ZW"]},                                  # matches nothing: its own facet still counts
    {"kind": ["event"], "country": ["ZW"], "sector": ["zz"]},
])
async def test_one_pass_counts_equal_a_plain_count_per_facet(client, varied, filters):
    page = (await client.get("/v1/opportunities", params=filters | {"facets": True})).json()
    assert page["facets"]["approximate"] is False
    assert _answered(page) == _plain_counts(varied, filters)


async def test_ties_are_ordered_by_value_and_no_match_counts_nothing(client, varied):
    answered = _answered((await client.get("/v1/opportunities", params={"facets": True})).json())
    for values in answered.values():
        assert values == sorted(values, key=lambda item: (-item[1], item[0]))
    assert any(len({c for _, c in values}) < len(values) for values in answered.values())  # there are ties
    nothing = (await client.get("/v1/opportunities", params={"q": "zeppelin", "facets": True})).json()
    assert nothing["items"] == [] and _answered(nothing) == {"kind": [], "country": [], "sector": []}


async def test_counts_are_exact_up_to_the_limit_and_sampled_above(client, varied, monkeypatch):
    # The planner's estimate of the rows to count is pinned; the rule is on it alone.
    monkeypatch.setattr(facets.estimates, "get", lambda key: 1000.0)
    monkeypatch.setattr(facets, "MAX_SAMPLE_PERCENT", 100.0)
    monkeypatch.setattr(facets, "SAMPLED_MATCHES", 10**9)
    params = {"country": "US", "facets": True}
    monkeypatch.setattr(facets, "EXACT_LIMIT", 1000)
    at_limit = (await client.get("/v1/opportunities", params=params)).json()
    assert at_limit["facets"]["approximate"] is False
    monkeypatch.setattr(facets, "EXACT_LIMIT", 999)
    facets.recent_counts.clear()
    above = (await client.get("/v1/opportunities", params=params)).json()
    assert above["facets"]["approximate"] is True
    assert _answered(above) == _answered(at_limit) == _plain_counts(varied, {"country": ["US"]})
    # Exact counts have no margin; counts from a sample of the whole table have none to speak of.
    assert {c["margin"] for name in facets.FACETS for c in at_limit["facets"][name]} == {None}
    assert {c["margin"] for name in facets.FACETS for c in above["facets"][name]} == {0}


@pytest.mark.parametrize(("expected", "table_rows", "rows_read"), [
    (7_000, 100_000, 1_000),  # 1% of the table at most
    (70_000, 1_000_000, facets.SAMPLED_ROWS),  # a bounded read, whatever the table's size
    (70_000, 10_000_000, facets.SAMPLED_ROWS),
    (900_000, 1_000_000, 1_000_000 * facets.SAMPLED_MATCHES / 900_000),  # enough for the matches, no more
])
def test_a_sample_reads_a_bounded_number_of_rows(expected, table_rows, rows_read):
    assert facets.sample_percent(expected, table_rows) / 100 * table_rows == pytest.approx(rows_read)


@pytest.mark.parametrize(("true_count", "fraction"), [(400, 0.01), (3000, 0.01), (500, 0.05), (200, 0.3)])
def test_a_sampled_count_is_within_its_margin_at_the_stated_confidence(true_count, fraction):
    """Rows drawn each with probability `fraction`, scaled up: the margin the answer states
    covers the true count in at least FACETS_CONFIDENCE of draws (a few points of slack for
    the 2,000 draws' own chance)."""
    draws = random.Random(f"{true_count} {fraction}")
    covered = 0
    for _ in range(2000):
        seen = sum(draws.random() < fraction for _ in range(true_count))
        if seen:  # a value the sample never meets is not answered
            covered += abs(seen / fraction - true_count) <= facets.margin(seen, fraction)
        else:
            covered += 1
    assert covered / 2000 >= facets.FACETS_CONFIDENCE - 0.02


async def test_a_search_reuses_its_counts_across_pages_and_sorts_until_they_are_old(client, varied, monkeypatch):
    now = 1000.0
    monkeypatch.setattr(facets, "recent_counts", TTLCache(maxsize=16, ttl=facets.FRESH_SECONDS, timer=lambda: now))
    params = {"country": ["US", "CA"], "facets": True, "limit": 5}
    first = (await client.get("/v1/opportunities", params=params)).json()
    await factories.create(client, "/v1/opportunities", factories.opportunity(kind="call", countries=["US"]))
    now += facets.FRESH_SECONDS - 1
    # The same search in other words (values reordered, repeated), another sort, page size, page.
    reordered = {"country": ["CA", "US", "US"], "facets": True, "limit": 7, "sort": "-created"}
    second = (await client.get("/v1/opportunities", params=reordered)).json()
    third = (await client.get("/v1/opportunities", params=params | {"cursor": first["next_cursor"]})).json()
    assert second["facets"] == third["facets"] == first["facets"]  # counted_at included
    # Another search is counted on its own, the new call included.
    other = (await client.get("/v1/opportunities", params=params | {"sector": SECTORS})).json()
    assert other["facets"]["counted_at"] > first["facets"]["counted_at"]
    assert dict(_answered(other)["kind"])["call"] == dict(_answered(first)["kind"]).get("call", 0) + 1
    # Once the counts are FRESH_SECONDS old the search is counted anew.
    now += 1
    fresh = (await client.get("/v1/opportunities", params=params)).json()
    assert fresh["facets"]["counted_at"] > first["facets"]["counted_at"]
    assert _answered(fresh) == _answered(other)


async def test_without_reuse_every_ask_is_counted_afresh(app, client, varied):
    app.state.settings = app.state.settings.model_copy(update={"search": SearchSettings(reuse_facets=False)})
    params = {"country": "US", "facets": True}
    first = (await client.get("/v1/opportunities", params=params)).json()
    await factories.create(client, "/v1/opportunities", factories.opportunity(kind="call", countries=["US"]))
    second = (await client.get("/v1/opportunities", params=params)).json()
    assert second["facets"]["counted_at"] > first["facets"]["counted_at"]
    assert dict(_answered(second)["kind"])["call"] == dict(_answered(first)["kind"]).get("call", 0) + 1
    assert len(facets.recent_counts) == 0


async def test_an_open_search_counts_its_facets_from_the_deadline_index_alone(session):
    """The table holds every opportunity's text; the index only what the counts read."""
    search = plan(SearchQuery(kind=["call"], country=["US"], sector=["photonics"], facets=True), date(2030, 1, 15), 51)
    connection = await session.connection()
    # A table this small would be read whole, or through a bitmap; left with index scans, the
    # planner reads the index alone when it holds every column the counts read.
    for scan in ("seqscan", "bitmapscan"):
        await connection.exec_driver_sql(f"SET LOCAL enable_{scan} = off")
    compiled = facets.exact_statement(search.shape).compile(dialect=connection.dialect)
    values = compiled.construct_params(search.params)
    explained = await connection.exec_driver_sql("EXPLAIN " + str(compiled), tuple(values[n] for n in compiled.positiontup or ()))
    lines = "\n".join(explained.scalars())
    assert "Index Only Scan using ix_opportunities_deadline_key on opportunities" in lines, lines
