"""The opportunity search: filters, sorts, paging with ties, text, facets, highlights, missions."""

from datetime import UTC, datetime

import pytest

from service.opportunities import facets
from tests import factories
from tests.lists import collect
from tests.problems import assert_problem


@pytest.fixture
async def world(client):
    """A cluster, a partnership, six opportunities and two missions, on 2030-01-15."""
    cluster = await factories.create(client, "/v1/clusters", factories.cluster(slug="photon-valley"))
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership(slug="laser-go"))
    o = {}
    o["call"] = await factories.create(client, "/v1/opportunities", factories.opportunity(
        kind="call", title="Call for photonics pilots", countries=["US", "CA"], sectors=["photonics"], deadline="2030-02-01",
        description="Open call financing photonic demonstrators in North America.",
    ))
    o["request"] = await factories.create(client, "/v1/opportunities", factories.opportunity(
        kind="cooperation-request", title="Cooperación con clústeres de Colombia", countries=["CO"], sectors=["aerospace"],
        deadline="2030-02-01", posted_by={"cluster": cluster["slug"]}, summary="Buscamos cooperación técnica en aeronáutica.",
    ))
    o["search"] = await factories.create(client, "/v1/opportunities", factories.opportunity(
        kind="partner-search", title="Medical lasers partner search", countries=["US"], sectors=["photonics", "medtech"],
        deadline=None, posted_by={"partnership": partnership["slug"]}, description="Clusters working on medical lasers wanted.",
    ))
    o["offer"] = await factories.create(client, "/v1/opportunities", factories.opportunity(
        kind="cooperation-offer", title="Packaging testing offer", countries=["JP"], sectors=["packaging"], deadline="2030-03-01",
    ))
    o["closed"] = await factories.create(client, "/v1/opportunities", factories.opportunity(
        kind="call", title="Closed photonics call", countries=["US"], sectors=["photonics"], deadline="2030-01-01",
    ))
    o["withdrawn"] = await factories.create(client, "/v1/opportunities", factories.opportunity(
        kind="event", title="Withdrawn photonics event", countries=["US"], sectors=["photonics"], withdrawn=True,
    ))
    o["mission"] = await factories.create(client, "/v1/missions", factories.mission(
        title="Photonics mission to Boston", destination_country="US", sectors=["photonics"], applications_open_on="2030-01-01",
        application_deadline="2030-02-01", organisers={"clusters": [cluster["slug"]]},
    ))
    o["later"] = await factories.create(client, "/v1/missions", factories.mission(
        title="Aerospace mission to Brazil", destination_country="BR", sectors=["aerospace"], applications_open_on="2030-03-01",
        application_deadline="2030-04-01",
    ))
    return o


def ids(items) -> list[str]:
    return [i["id"] for i in items]


async def test_default_is_open_things_by_deadline(client, world):
    items = await collect(client, "/v1/opportunities", {"limit": 2})
    # deadline order, ties (three on 2030-02-01) by id, open-ended last
    ties = sorted([world["call"]["id"], world["request"]["id"], world["mission"]["id"]])
    assert ids(items) == [*ties, world["offer"]["id"], world["search"]["id"]]
    mission = next(i for i in items if i["kind"] == "mission")
    assert mission["link"] == f"/v1/missions/{world['mission']['id']}"
    assert mission["countries"] == ["US"] and mission["organiser"]["slug"] == "photon-valley"
    request = next(i for i in items if i["kind"] == "cooperation-request")
    poster = world["request"]["posted_by"]["cluster"]
    assert request["organiser"] == {"type": "cluster", "id": poster["id"], "slug": "photon-valley", "name": poster["name"]}
    assert request["link"] == f"/v1/opportunities/{world['request']['id']}"


async def test_open_false_includes_closed_and_withdrawn(client, world):
    everything = await collect(client, "/v1/opportunities", {"open": False, "limit": 3})
    assert set(ids(everything)) == {o["id"] for o in world.values()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "call"}, ["call"]),
        ({"kind": ["call", "mission"]}, ["call", "mission"]),
        ({"kind": "mission"}, ["mission"]),
        ({"country": "US"}, ["call", "mission", "search"]),
        ({"country": ["CO", "JP"]}, ["request", "offer"]),
        ({"sector": "medtech"}, ["search"]),
        ({"sector": ["aerospace", "packaging"]}, ["request", "offer"]),
        ({"deadline_after": "2030-02-15"}, ["offer"]),
        ({"deadline_before": "2030-02-01"}, ["call", "request", "mission"]),
        ({"cluster": "photon-valley"}, ["request", "mission"]),
        ({"partnership": "laser-go"}, ["search"]),
        ({"country": "US", "sector": "photonics", "kind": "call"}, ["call"]),
    ],
)
async def test_filters(client, world, params, expected):
    found = await collect(client, "/v1/opportunities", params | {"limit": 2})
    assert sorted(ids(found)) == sorted(world[name]["id"] for name in expected)


async def test_sort_newest_first_pages_through_every_row(client, world):
    items = await collect(client, "/v1/opportunities", {"sort": "-created", "limit": 1, "open": False})
    created = [i["created_at"] for i in items]
    assert created == sorted(created, reverse=True) and len(items) == len(world)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("photonics", ["call", "search", "mission"]),          # stemming: photonic(s)
        ("photonic demonstrators", ["call"]),
        ("cooperacion", ["request"]),                            # accents folded
        ("COOPERACIÓN clusteres", ["request"]),
        ('"medical lasers"', ["search"]),                        # phrase
        ('"lasers medical"', []),
        ("photonics -mission", ["call", "search"]),             # exclusion
        ("packaging or aeronautica", ["request", "offer"]),     # or
    ],
)
async def test_text_search(client, world, q, expected):
    found = await collect(client, "/v1/opportunities", {"q": q, "limit": 2})
    assert sorted(ids(found)) == sorted(world[name]["id"] for name in expected)
    scores = [i["score"] for i in found]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)


async def test_relevance_puts_title_matches_first_and_pages_stably(client, world):
    ranked = await collect(client, "/v1/opportunities", {"q": "photonics", "limit": 1})
    assert ranked[-1]["id"] == world["search"]["id"]  # matched in the description only
    assert_problem(await client.get("/v1/opportunities", params={"sort": "relevance"}), 422, "query.sort")
    assert_problem(await client.get("/v1/opportunities", params={"sort": "title"}), 422, "query.sort")
    page = (await client.get("/v1/opportunities", params={"q": "photonics", "limit": 1})).json()
    assert_problem(await client.get("/v1/opportunities", params={"cursor": page["next_cursor"]}), 422, "query.cursor")


async def test_facets_match_direct_counts_each_without_its_own_filter(client, world):
    params = {"country": "US", "kind": "call", "facets": True}
    page = (await client.get("/v1/opportunities", params=params)).json()
    assert page["facets"].pop("approximate") is False
    page["facets"].pop("counted_at")
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in page["facets"].items()}

    async def count(**filters) -> int:
        return len(await collect(client, "/v1/opportunities", filters | {"limit": 200}))

    # kind facet: counted with the country filter but without the kind filter
    assert facets["kind"] == {"call": await count(country="US", kind="call"),
                              "partner-search": await count(country="US", kind="partner-search"),
                              "mission": await count(country="US", kind="mission")}
    assert facets["kind"] == {"call": 1, "partner-search": 1, "mission": 1}
    # country facet: counted with the kind filter but without the country filter
    assert facets["country"] == {"US": await count(kind="call", country="US"), "CA": await count(kind="call", country="CA")}
    assert facets["sector"] == {"photonics": await count(kind="call", country="US", sector="photonics")}
    assert [i["id"] for i in page["items"]] == [world["call"]["id"]]


def _facets(page) -> dict:
    return {name: {f["value"]: f["count"] for f in values} for name, values in page["facets"].items() if name not in ("approximate", "counted_at")}


async def test_facets_with_text_and_no_filters(client, world):
    page = (await client.get("/v1/opportunities", params={"q": "photonics", "facets": True})).json()
    facets = _facets(page)
    assert facets["kind"] == {"call": 1, "partner-search": 1, "mission": 1}
    assert facets["country"] == {"US": 3, "CA": 1}
    assert facets["sector"] == {"photonics": 3, "medtech": 1}
    assert (await client.get("/v1/opportunities")).json()["facets"] is None


async def test_broad_searches_count_facets_on_a_sample(client, world, monkeypatch):
    exact = (await client.get("/v1/opportunities", params={"country": "US", "facets": True})).json()
    assert exact["facets"]["approximate"] is False
    # Pretend every search is broad: the sample then covers the whole (small) table, so the
    # scaled counts must equal the exact ones, flagged approximate.
    monkeypatch.setattr(facets, "EXACT_LIMIT", -1)
    monkeypatch.setattr(facets, "SAMPLED_MATCHES", 10**9)
    monkeypatch.setattr(facets, "MAX_SAMPLE_PERCENT", 100.0)
    facets.recent_counts.clear()  # the exact counts of the same search are remembered
    sampled = (await client.get("/v1/opportunities", params={"country": "US", "facets": True})).json()
    assert sampled["facets"]["approximate"] is True
    assert _facets(sampled) == _facets(exact)
    assert sampled["items"] == exact["items"]


async def test_highlight_marks_matches_accent_insensitively(client, world):
    page = (await client.get("/v1/opportunities", params={"q": "cooperacion tecnica", "highlight": True})).json()
    (item,) = page["items"]
    assert item["highlight"]["title"] == "<mark>Cooperación</mark> con clústeres de Colombia"
    assert item["highlight"]["snippet"] == "Buscamos <mark>cooperación</mark> <mark>técnica</mark> en aeronáutica."
    lasers = (await client.get("/v1/opportunities", params={"q": "laser", "highlight": True})).json()["items"][0]
    assert "Medical <mark>lasers</mark>" in lasers["highlight"]["title"]
    assert "<mark>lasers</mark> wanted" in lasers["highlight"]["snippet"]


async def test_a_mission_leaves_the_search_when_applications_close(client, clock, world):
    assert world["mission"]["id"] in ids(await collect(client, "/v1/opportunities", {"kind": "mission"}))
    clock.at = datetime(2030, 2, 2, tzinfo=UTC)
    assert await collect(client, "/v1/opportunities", {"kind": "mission"}) == []
    clock.at = datetime(2030, 3, 1, tzinfo=UTC)
    assert ids(await collect(client, "/v1/opportunities", {"kind": "mission"})) == [world["later"]["id"]]
    as_of = await collect(client, "/v1/opportunities", {"kind": "mission", "as_of": "2030-01-20"})
    assert ids(as_of) == [world["mission"]["id"]]
    await client.patch(f"/v1/missions/{world['later']['id']}", json={"cancelled": True})
    assert await collect(client, "/v1/opportunities", {"kind": "mission"}) == []


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"kind": "rumour"}, "query.kind.0"),
        ({"country": "ZZ"}, "query.country.0"),
        ({"deadline_after": "tomorrow"}, "query.deadline_after"),
        ({"open": "maybe"}, "query.open"),
        ({"limit": 500}, "query.limit"),
        ({"q": "\x00"}, "query.q"),
        ({"cursor": "abc"}, "query.cursor"),
        ({"page": 2}, "query.page"),
    ],
)
async def test_bad_search_parameters_are_422(client, params, location):
    assert_problem(await client.get("/v1/opportunities", params=params), 422, location)


async def test_many_ties_page_without_loss_or_repeat(client):
    for i in range(7):
        await factories.create(client, "/v1/opportunities", factories.opportunity(title=f"Same deadline {i}", deadline="2030-05-05"))
    for sort in ("deadline", "-created"):
        items = await collect(client, "/v1/opportunities", {"sort": sort, "limit": 3})
        assert len(items) == 7 and len(set(ids(items))) == 7
    ranked = await collect(client, "/v1/opportunities", {"q": "deadline", "limit": 2})
    assert len(ranked) == 7 and len(set(ids(ranked))) == 7
