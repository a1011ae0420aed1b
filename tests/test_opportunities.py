"""Posted opportunities: create, status, poster, PATCH, delete."""

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.problems import assert_problem


async def test_create_get_and_status(client, clock):
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership())
    body = factories.opportunity(kind="call", posted_by={"partnership": partnership["slug"]}, deadline="2030-02-01", countries=["EL", "UK"])
    response = await client.post("/v1/opportunities", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["countries"] == ["GR", "GB"] and created["status"] == "open"
    assert created["posted_by"]["partnership"]["slug"] == partnership["slug"]
    assert response.headers["location"] == f"/v1/opportunities/{created['id']}"
    clock.at = datetime(2030, 2, 2, tzinfo=UTC)
    assert (await client.get(f"/v1/opportunities/{created['id']}")).json()["status"] == "closed"
    withdrawn = await client.patch(f"/v1/opportunities/{created['id']}", json={"withdrawn": True})
    assert withdrawn.json()["status"] == "withdrawn"
    assert_problem(await client.delete(f"/v1/partnerships/{partnership['id']}"), 409)
    assert (await client.delete(f"/v1/opportunities/{created['id']}")).status_code == 204
    assert_problem(await client.get(f"/v1/opportunities/{created['id']}"), 404)


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"kind": "gossip"}, "body.kind"),
        ({"posted_by": {}}, "body.posted_by"),
        ({"posted_by": {"cluster": "a", "organisation": {"name": "b"}}}, "body.posted_by"),
        ({"posted_by": {"cluster": "ghost"}}, "body.posted_by.cluster"),
        ({"posted_by": {"partnership": "ghost"}}, "body.posted_by.partnership"),
        ({"countries": ["US", "US"]}, "body"),
        ({"countries": ["XX"]}, "body.countries.0"),
        ({"deadline": "2030-13-01"}, "body.deadline"),
        ({"summary": "s" * 1001}, "body.summary"),
        ({"title": "\x00"}, "body.title"),
    ],
)
async def test_bad_opportunities_are_422(client, fields, location):
    assert_problem(await client.post("/v1/opportunities", json=factories.opportunity(**fields)), 422, location)


async def test_patch_switches_the_poster(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    created = await factories.create(client, "/v1/opportunities", factories.opportunity())
    moved = await client.patch(f"/v1/opportunities/{created['id']}", json={"posted_by": {"cluster": cluster["id"]}})
    assert moved.status_code == 200
    assert moved.json()["posted_by"] == {"cluster": {k: cluster[k] for k in ("id", "slug", "name", "acronym", "country")}, "partnership": None, "organisation": None}
    assert_problem(await client.patch(f"/v1/opportunities/{created['id']}", json={"posted_by": None}), 422)
