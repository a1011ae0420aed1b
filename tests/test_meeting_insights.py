"""Suggested meetings (partner matching among a mission's participants) and the funnel."""

from tests import factories, meetings
from tests.meetings import accepted, ask


async def test_suggestions_rank_the_other_participants_with_reasons(client, session):
    world = await meetings.build(client, session)
    # beta: photonics (the factory's sector); gamma shares it and a market, delta shares nothing.
    await client.patch("/v1/clusters/delta", json={"sectors": ["aerospace"], "target_markets": [{"country": "JP", "priority": 1}]})
    await client.patch("/v1/clusters/gamma", json={"country": "DE"})
    response = await client.get(world.path("/suggested-meetings"), params={"cluster": "beta"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [m["cluster"]["slug"] for m in items] == ["gamma"]
    assert items[0]["reasons"]["shared_sectors"] == ["photonics"]
    assert items[0]["reasons"]["location"] == "different-country"
    matches = (await client.get("/v1/clusters/beta/matches")).json()["items"]
    assert {m["cluster"]["slug"]: m["score"] for m in matches}["gamma"] == items[0]["score"]
    # Clusters outside the mission are never suggested, however well they match.
    assert "epsilon" in {m["cluster"]["slug"] for m in matches}


async def test_suggestions_need_a_participant(client, session):
    world = await meetings.build(client, session)
    for params in ({"cluster": "epsilon"}, {"cluster": "nobody"}, {}, {"cluster": "beta", "limit": 0}):
        assert (await client.get(world.path("/suggested-meetings"), params=params)).status_code == 422


async def test_the_funnel_of_a_mission_and_of_a_partnership(client, session):
    world = await meetings.build(client, session)
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership(
        members=[{"cluster": "alpha", "role": "coordinator"}]))
    response = await client.patch(world.path(), json={"organisers": {"clusters": ["alpha"], "partnerships": [partnership["slug"]]}})
    assert response.status_code == 200, response.text
    made = await accepted(client, world, "beta", "gamma")
    await accepted(client, world, "beta", "delta")
    await ask(client, world, "gamma", "delta")
    await factories.create(client, "/v1/agreements", factories.agreement(clusters=["beta"], mission=world.mission))
    result = (await client.post(world.path("/schedule"))).json()
    await client.post(world.path("/schedule/publish"))
    held = next(m for m in result["meetings"] if m["request_id"] == made["id"])
    assert (await client.patch(world.path(f"/meetings/{held['id']}"), json={"status": "held"})).status_code == 200

    expected = {"participants": 3, "requests": 3, "accepted": 2, "scheduled": 2, "held": 1, "agreements": 1}
    assert (await client.get(world.path("/funnel"))).json() == expected
    assert (await client.get(f"/v1/partnerships/{partnership['slug']}/funnel")).json() == expected
    outcomes = (await client.get(world.path())).json()["outcomes"]
    assert (outcomes["bilateral_meetings"], outcomes["agreements_signed"]) == (1, 1)
    assert (await client.get("/v1/partnerships/nope/funnel")).status_code == 404
    assert (await client.get("/v1/missions/nope/funnel")).status_code == 404
