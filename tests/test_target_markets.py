"""Target markets: derived from what clusters and partnerships target, plus market studies."""

from tests import factories
from tests.problems import assert_problem

STUDY = {
    "customer_segments": "Hospitals and research labs",
    "market_size": "USD 2bn serviceable market",
    "growth": "8% a year",
    "profitability": "High margins for niche devices",
    "trends": "Demand for minimally invasive diagnostics",
    "key_success_factors": "FDA clearance; local distributor",
    "support_organisations": [{"name": "EU Gateway | Business Avenues", "kind": "eu-programme", "url": "https://www.eu-gateway.eu/"}],
}


async def _market(client, country):
    return (await client.get(f"/v1/target-markets/{country}")).json()


async def test_counts_follow_clusters_and_partnerships(client):
    await factories.create(client, "/v1/clusters", factories.cluster(target_markets=[{"country": "CA"}, {"country": "JP"}]))
    await factories.create(client, "/v1/clusters", factories.cluster(target_markets=[{"country": "CA"}]))
    await factories.create(client, "/v1/partnerships", factories.partnership(target_markets=[{"country": "CA"}]))
    canada = await _market(client, "CA")
    assert canada["name"] == "Canada" and canada["profile"] is None
    assert (canada["cluster_count"], canada["partnership_count"]) == (2, 1)
    assert (await _market(client, "JP"))["cluster_count"] == 1
    assert_problem(await client.get("/v1/target-markets/NZ"), 404)
    assert_problem(await client.get("/v1/target-markets/ZZ"), 422)


async def test_ranking_by_partnership_count_with_paging(client):
    for countries in (["BR", "MX"], ["BR"], ["BR", "MX", "AR"]):
        await factories.create(client, "/v1/partnerships", factories.partnership(target_markets=[{"country": c} for c in countries]))
    seen, cursor = [], None
    while True:
        params = {"sort": "-partnership_count", "limit": 2, "country": ["BR", "MX", "AR"]}
        page = (await client.get("/v1/target-markets", params=params | ({"cursor": cursor} if cursor else {}))).json()
        seen += [(m["country"], m["partnership_count"]) for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [("BR", 3), ("MX", 2), ("AR", 1)]


async def test_market_study_put_patch_delete(client):
    await factories.create(client, "/v1/clusters", factories.cluster(target_markets=[{"country": "UK"}]))
    created = await client.put("/v1/target-markets/UK", json=STUDY)
    assert created.status_code == 201 and created.headers["location"] == "/v1/target-markets/GB"
    market = created.json()
    assert market["country"] == "GB" and market["profile"]["growth"] == "8% a year"
    replaced = await client.put("/v1/target-markets/GB", json={"growth": "flat"})
    assert replaced.status_code == 200
    assert replaced.json()["profile"]["market_size"] is None  # PUT replaces the whole study

    etag = replaced.headers["etag"]
    patched = await client.patch("/v1/target-markets/GB", json={"trends": "AI"}, headers={"If-Match": etag})
    assert patched.json()["profile"]["growth"] == "flat" and patched.json()["profile"]["trends"] == "AI"
    assert_problem(await client.patch("/v1/target-markets/GB", json={"trends": "x"}, headers={"If-Match": etag}), 412)
    assert_problem(await client.patch("/v1/target-markets/GB", json={"support_organisations": [{"name": "x", "kind": "spy"}]}), 422)

    assert (await client.delete("/v1/target-markets/GB")).status_code == 204
    after = await _market(client, "GB")
    assert after["profile"] is None and after["cluster_count"] == 1
    assert_problem(await client.delete("/v1/target-markets/GB"), 404)


async def test_a_study_alone_makes_a_market_listed(client):
    assert (await client.put("/v1/target-markets/NZ", json={"trends": "Agritech"})).status_code == 201
    listed = (await client.get("/v1/target-markets", params={"has_profile": True})).json()["items"]
    assert [m["country"] for m in listed] == ["NZ"]
    without = (await client.get("/v1/target-markets", params={"has_profile": False, "country": "NZ"})).json()["items"]
    assert without == []


async def test_a_study_stored_under_looser_rules_still_reads(client, session):
    """Output is read back as stored: rules that grew stricter (here URLs) refuse new input
    but must not turn old records into errors."""
    from service.models import MarketProfile

    session.add(MarketProfile(country="PE", support_organisations=[{"name": "Old", "kind": "other", "url": "http://a:99999/"}]))
    await session.flush()
    response = await client.get("/v1/target-markets/PE")
    assert response.status_code == 200
    assert response.json()["profile"]["support_organisations"][0]["url"] == "http://a:99999/"
