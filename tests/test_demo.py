"""The demo dataset loads through the API's own rules and answers the README's examples."""

import pytest

from service import demo


@pytest.fixture
async def demo_loaded(session, clock):
    counts = await demo.load(session, clock.today())
    await session.commit()
    return counts


async def test_demo_data_loads_every_partnership_of_the_annex(demo_loaded, client):
    assert demo_loaded["partnerships"] == 59
    assert demo_loaded["clusters"] > 200
    s3 = (await client.get("/v1/partnerships", params={"programme": "escp-s3", "limit": 200})).json()
    assert len(s3["items"]) == 9
    assert {p["acronym"] for p in s3["items"]} >= {"AI4Diag", "TRACK", "S3martMed", "EACN"}
    first_generation = (await client.get("/v1/partnerships", params={"programme": "escp-4i", "generation": 1, "limit": 200})).json()
    assert len(first_generation["items"]) == 25


async def test_french_clusters_of_the_annex(demo_loaded, client):
    response = await client.get("/v1/clusters", params={"country": "FR", "limit": 200})
    slugs = {c["slug"] for c in response.json()["items"]}
    assert {"opticsvalley", "aerospace-valley", "valorial", "systematic-paris-region"} <= slugs
    assert all(c["country"] == "FR" for c in response.json()["items"])


async def test_target_markets_are_ranked_by_partnerships(demo_loaded, client):
    ranked = (await client.get("/v1/target-markets", params={"sort": "-partnership_count", "limit": 5})).json()["items"]
    counts = [m["partnership_count"] for m in ranked]
    assert counts == sorted(counts, reverse=True)
    assert ranked[0]["country"] == "US" and ranked[0]["name"] == "United States"


async def test_demo_loads_only_into_an_empty_database(demo_loaded, session):
    assert not await demo.is_empty(session)


async def test_demo_opportunities_in_several_languages(demo_loaded, client):
    body = (await client.get("/v1/opportunities", params={"facets": True, "open": False, "limit": 1})).json()
    languages = {f["value"] for f in body["facets"]["language"]}
    assert {"en", "de", "fr", "it", "es", "nl", "pl"} <= languages
    found = (await client.get("/v1/opportunities", params={"q": "Partnerschaften", "lang": "de"})).json()["items"]
    assert [i["title"] for i in found] == ["Partnerschaft für digitale Logistik in Kanada gesucht"]
