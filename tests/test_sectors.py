"""The sector vocabulary."""

from tests import factories
from tests.problems import assert_problem

EMERGING = {
    "advanced-packaging", "biopharmaceuticals", "blue-growth", "creative-industries", "digital-industries",
    "environmental-industries", "experience-industries", "logistical-services", "medical-devices",
    "mobility-technologies",
}


async def test_vocabulary_is_seeded_with_the_ten_emerging_industries(client):
    response = await client.get("/v1/sectors", params={"kind": "emerging-industry", "limit": 200})
    assert {s["code"] for s in response.json()["items"]} == EMERGING
    photonics = (await client.get("/v1/sectors/photonics")).json()
    assert photonics["kind"] == "sector" and photonics["name"]


async def test_sector_search_and_paging(client):
    found = (await client.get("/v1/sectors", params={"q": "energ"})).json()["items"]
    assert found and all("energ" in (s["code"] + s["name"]).lower() for s in found)
    literal = (await client.get("/v1/sectors", params={"q": "%"})).json()["items"]
    assert literal == []  # wildcards are taken literally
    first = await client.get("/v1/sectors", params={"limit": 10})
    assert len(first.json()["items"]) == 10 and 'rel="next"' in first.headers["link"]


async def test_sector_lifecycle_and_in_use_protection(client):
    created = await factories.create(client, "/v1/sectors", {"code": "quantum", "name": "Quantum technologies", "nace_codes": ["26.1"]})
    assert created == {"code": "quantum", "name": "Quantum technologies", "kind": "sector", "nace_codes": ["26.1"]}
    assert_problem(await client.post("/v1/sectors", json={"code": "quantum", "name": "Again"}), 409)
    assert_problem(await client.post("/v1/sectors", json={"code": "x", "name": "y", "nace_codes": ["nope"]}), 422, "body.nace_codes.0")

    patched = await client.patch("/v1/sectors/quantum", json={"kind": "emerging-industry"})
    assert patched.json()["kind"] == "emerging-industry" and patched.json()["name"] == "Quantum technologies"
    assert_problem(await client.patch("/v1/sectors/quantum", json={"code": "other"}), 422, "body.code")

    cluster = await factories.create(client, "/v1/clusters", factories.cluster(sectors=["quantum"]))
    assert_problem(await client.delete("/v1/sectors/quantum"), 409)
    await client.patch(f"/v1/clusters/{cluster['id']}", json={"sectors": []})
    assert (await client.delete("/v1/sectors/quantum")).status_code == 204
    assert_problem(await client.get("/v1/sectors/quantum"), 404)


async def test_a_name_longer_than_its_column_is_refused_at_the_field(client):
    # The column holds 200 characters: one more must be refused where it is, not by the database.
    assert_problem(await client.post("/v1/sectors", json={"code": "long-name", "name": "x" * 201}), 422, "body.name")
    created = await factories.create(client, "/v1/sectors", {"code": "long-name", "name": "x" * 200})
    assert len(created["name"]) == 200
