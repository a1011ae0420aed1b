"""Partner matching: scores and the reasons behind them."""

import pytest

from tests import factories
from tests.lists import collect
from tests.problems import assert_problem


def markets(*countries):
    return [{"country": c} for c in countries]


@pytest.fixture
async def clusters(client):
    make = factories.cluster
    c = {
        "me": await factories.create(client, "/v1/clusters", make(slug="me", country="FR", region={"code": "FR10"}, sectors=["photonics", "medtech"], target_markets=markets("US", "CA", "JP"))),
        "twin": await factories.create(client, "/v1/clusters", make(slug="twin", country="DE", sectors=["photonics", "medtech"], target_markets=markets("US", "CA"))),
        "neighbour": await factories.create(client, "/v1/clusters", make(slug="neighbour", country="FR", region={"code": "FRK"}, sectors=["photonics"], target_markets=[])),
        "same-region": await factories.create(client, "/v1/clusters", make(slug="same-region", country="FR", region={"code": "FR10"}, sectors=["photonics"], target_markets=[])),
        "complement": await factories.create(client, "/v1/clusters", make(slug="complement", country="ES", sectors=["packaging"], target_markets=[])),
        "market-only": await factories.create(client, "/v1/clusters", make(slug="market-only", country="IT", sectors=["textiles"], target_markets=markets("JP"))),
        "unrelated": await factories.create(client, "/v1/clusters", make(slug="unrelated", country="PL", sectors=["textiles"], target_markets=markets("BR"))),
        "partner": await factories.create(client, "/v1/clusters", make(slug="partner", country="BE", sectors=["photonics"], target_markets=markets("US"))),
    }
    # A partnership makes "partner" an existing partner of "me", and says photonics and
    # packaging go together.
    await factories.create(client, "/v1/partnerships", factories.partnership(
        sectors=["photonics", "packaging"], members=[{"cluster": "me"}, {"cluster": "partner"}],
    ))
    return c


async def test_cluster_matches_are_scored_with_reasons(client, clusters):
    found = await collect(client, "/v1/clusters/me/matches", {"limit": 2})
    by_slug = {m["cluster"]["slug"]: m for m in found}
    assert set(by_slug) == {"twin", "neighbour", "same-region", "complement", "market-only"}
    twin = by_slug["twin"]
    assert twin["reasons"] == {
        "shared_sectors": ["medtech", "photonics"], "complementary_sectors": [],
        "shared_target_markets": ["CA", "US"], "location": "different-country",
    }
    assert twin["score"] == 4 * 2 + 1 * 2 + 2
    assert by_slug["neighbour"]["score"] == 4 + 1 and by_slug["neighbour"]["reasons"]["location"] == "different-region"
    assert by_slug["same-region"]["score"] == 4 and by_slug["same-region"]["reasons"]["location"] == "same-region"
    assert by_slug["complement"]["reasons"]["complementary_sectors"] == ["packaging"]
    assert by_slug["complement"]["score"] == 2 + 2
    assert by_slug["market-only"]["score"] == 1 + 2
    scores = [m["score"] for m in found]
    assert scores == sorted(scores, reverse=True) and found[0]["cluster"]["slug"] == "twin"


async def test_match_filters(client, clusters):
    assert [m["cluster"]["slug"] for m in await collect(client, "/v1/clusters/me/matches", {"country": "ES"})] == ["complement"]
    by_sector = await collect(client, "/v1/clusters/me/matches", {"sector": "textiles"})
    assert [m["cluster"]["slug"] for m in by_sector] == ["market-only"]
    by_market = await collect(client, "/v1/clusters/me/matches", {"target_market": ["CA", "JP"]})
    assert {m["cluster"]["slug"] for m in by_market} == {"twin", "market-only"}
    assert_problem(await client.get("/v1/clusters/nobody/matches"), 404)
    assert_problem(await client.get("/v1/clusters/me/matches", params={"sort": "name"}), 422, "query.sort")


async def test_a_cluster_is_matched_by_its_id_as_by_its_slug(client, clusters):
    by_slug = await collect(client, "/v1/clusters/me/matches", {})
    assert by_slug and await collect(client, f"/v1/clusters/{clusters['me']['id']}/matches", {}) == by_slug
    missing = await client.get("/v1/clusters/nobody/matches")
    assert_problem(missing, 404)
    assert missing.json()["detail"] == "There is no cluster 'nobody'."


async def test_opportunity_matches(client, clusters):
    opportunity = await factories.create(client, "/v1/opportunities", factories.opportunity(
        sectors=["photonics"], countries=["US", "DE"], posted_by={"cluster": "me"},
    ))
    found = await collect(client, f"/v1/opportunities/{opportunity['id']}/matches", {})
    by_slug = {m["cluster"]["slug"]: m for m in found}
    assert "me" not in by_slug  # the poster itself
    twin = by_slug["twin"]
    assert twin["reasons"]["location"] == "in-target-country" and twin["reasons"]["shared_target_markets"] == ["US"]
    assert twin["score"] == 4 + 1 + 3
    assert by_slug["partner"]["score"] == 4 + 1 and by_slug["partner"]["reasons"]["location"] == "elsewhere"
    assert "unrelated" not in by_slug
    assert_problem(await client.get("/v1/opportunities/not-an-id/matches"), 404)


async def test_ranking_from_sector_sharers_alone_equals_scoring_everyone(client, monkeypatch):
    """The first page comes from the clusters sharing a sector when it ends above what any
    other could score; later pages score everyone. Both agree with the formula."""
    from service.matching import repository

    used = []
    statement = repository._statement
    monkeypatch.setattr(repository, "_statement", lambda *a: used.append(a[-1]) or statement(*a))
    make, every = factories.cluster, markets("US", "CA", "JP", "MX", "BR")
    await factories.create(client, "/v1/clusters", make(slug="hub", country="FR", sectors=["photonics", "medtech", "space"], target_markets=every))
    expected = []
    for i in range(6):  # 3 shared sectors, 5 markets, another country: 12 + 5 + 2
        created = await factories.create(client, "/v1/clusters", make(slug=f"strong-{i}", country="DE", sectors=["photonics", "medtech", "space"], target_markets=every))
        expected.append((19, created["id"], created["slug"]))
    for i in range(4):  # markets only: 5 + 2
        created = await factories.create(client, "/v1/clusters", make(slug=f"markets-{i}", country="IT", sectors=["textiles"], target_markets=every))
        expected.append((7, created["id"], created["slug"]))
    expected.sort(key=lambda e: (e[0], e[1]), reverse=True)

    found = await collect(client, "/v1/clusters/hub/matches", {"limit": 3})
    assert [(m["score"], m["cluster"]["slug"]) for m in found] == [(score, slug) for score, _, slug in expected]
    assert used[0] == repository.SECTOR_OVERLAP and repository.ANY_OVERLAP in used  # both paths answered
