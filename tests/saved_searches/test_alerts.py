"""Saved-search alerts in process: the inverted index admits exactly what the search finds,
and each new match is announced once."""

import uuid

import pytest
from sqlalchemy import select

from service.models import Event
from service.saved_searches import index_query
from service.saved_searches.alerts import announce_matches
from tests import factories
from tests.lists import collect
from tests.saved_searches.conftest import save

QUERIES = [
    {}, {"country": ["US"]}, {"country": ["JP", "CO"]}, {"sector": ["photonics"]}, {"sector": ["medtech", "packaging"]},
    {"kind": ["call"]}, {"kind": ["mission"]}, {"kind": ["mission", "cooperation-offer"]}, {"q": "photonics"},
    {"q": "lasers -packaging"}, {"q": "cooperacion"}, {"q": '"partner search"'}, {"q": "the"}, {"cluster": ["photon-valley"]},
    {"partnership": ["laser-go"]}, {"cluster": ["nobody"]}, {"deadline_after": "2030-01-20"}, {"deadline_before": "2030-02-15"},
    {"open": False}, {"open": False, "q": "photonics", "country": ["US"]}, {"open": False, "kind": ["event"]},
    {"deadline_after": "2030-02-01", "deadline_before": "2030-02-01", "sector": ["photonics"]},
]


async def test_the_index_admits_exactly_what_the_search_finds(client, session, clock, world):
    saved = [uuid.UUID((await save(client, q))["id"]) for q in QUERIES]
    opportunities = {name: o for name, o in world.items() if name != "mission"}
    lookups = {name: await index_query.lookup(session, uuid.UUID(o["id"]), clock.today()) for name, o in opportunities.items()}
    for saved_id, query in zip(saved, QUERIES, strict=True):
        found = {r["id"] for r in await collect(client, "/v1/opportunities", query | {"limit": 200})}
        for name, o in opportunities.items():
            assert (saved_id in lookups[name].matched) == (o["id"] in found), (query, name)
    assert all(len(lookup.matched) <= lookup.candidates < len(QUERIES) for lookup in lookups.values())


def change(type_: str, opportunity: dict) -> Event:
    return Event(type=type_, resource_id=uuid.UUID(opportunity["id"]), data=opportunity)


async def alerts(session) -> list[dict]:
    rows = await session.scalars(select(Event).where(Event.type == "saved_search.matched").order_by(Event.id))
    return [row.data for row in rows]


@pytest.fixture
async def searches(client):
    return {
        "us": await save(client, {"country": ["US"], "q": "photonics"}),
        "japan": await save(client, {"country": ["JP"]}),
        "missions": await save(client, {"kind": ["mission"]}),
    }


async def test_a_new_match_is_announced_once(client, session, clock, searches):
    new = await factories.create(client, "/v1/opportunities", factories.opportunity(title="Photonics sensors", countries=["US"]))
    await announce_matches(session, [change("opportunity.created", new)], clock)
    us = searches["us"]["id"]
    assert await alerts(session) == [{"id": us, "saved_search_id": us, "opportunity": new}]

    kept = (await client.patch(f"/v1/opportunities/{new['id']}", json={"summary": "Still about photonics."})).json()
    await announce_matches(session, [change("opportunity.updated", kept)], clock)
    assert len(await alerts(session)) == 1


async def test_matching_again_after_not_matching_is_news(client, session, clock, searches):
    new = await factories.create(client, "/v1/opportunities", factories.opportunity(title="Photonics sensors", countries=["US"]))
    path = f"/v1/opportunities/{new['id']}"
    gone = (await client.patch(path, json={"countries": ["FR"]})).json()
    # One batch: the opportunity is looked up once, as it stands after the batch.
    await announce_matches(session, [change("opportunity.created", new), change("opportunity.updated", gone)], clock)
    assert await alerts(session) == []
    back = (await client.patch(path, json={"countries": ["US", "JP"]})).json()
    await announce_matches(session, [change("opportunity.updated", back)], clock)
    announced = await alerts(session)
    assert {a["id"] for a in announced} == {searches["us"]["id"], searches["japan"]["id"]}
    assert all(a["opportunity"] == back for a in announced)

    await announce_matches(session, [change("opportunity.updated", (await client.patch(path, json={"countries": ["FR"]})).json())], clock)
    await announce_matches(session, [change("opportunity.updated", (await client.patch(path, json={"countries": ["JP"]})).json())], clock)
    assert [a["id"] for a in (await alerts(session))[2:]] == [searches["japan"]["id"]]


async def test_closed_deleted_and_other_changes_announce_nothing(client, session, clock, searches):
    closed = await factories.create(client, "/v1/opportunities", factories.opportunity(
        title="Photonics sensors", countries=["US"], deadline="2030-01-01",
    ))
    deleted = await factories.create(client, "/v1/opportunities", factories.opportunity(title="Photonics", countries=["US"]))
    assert (await client.delete(f"/v1/opportunities/{deleted['id']}")).status_code == 204
    await announce_matches(session, [
        change("opportunity.created", closed), change("opportunity.created", deleted), change("opportunity.deleted", deleted),
        Event(type="cluster.created", resource_id=uuid.uuid4(), data={}),
    ], clock)
    assert await alerts(session) == []
