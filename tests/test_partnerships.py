"""Partnerships and their members."""

import pytest

from tests import factories
from tests.problems import assert_problem


@pytest.fixture
async def clusters(client):
    return [await factories.create(client, "/v1/clusters", factories.cluster(country=c)) for c in ("FR", "DE", "ES")]


async def test_create_with_members_shows_member_clusters(client, clusters):
    body = factories.partnership(
        members=[{"cluster": clusters[0]["slug"], "role": "coordinator"}, {"cluster": clusters[1]["id"]}],
        period_start="2018-01-01", period_end="2019-12-31", activities=["Missions to the USA"],
    )
    response = await client.post("/v1/partnerships", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/partnerships/{created['id']}"
    members = [(m["cluster"]["slug"], m["role"]) for m in created["members"]]
    assert members == [(clusters[0]["slug"], "coordinator"), (clusters[1]["slug"], "partner")]
    assert created["members"][0]["cluster"]["country"] == "FR"
    assert created["activities"] == ["Missions to the USA"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"programme": "escp-99"}, "body.programme"),
        ({"strand": "strand-9"}, "body"),
        ({"generation": 2**40}, "body.generation"),
        ({"period_start": "2019-01-01", "period_end": "2018-01-01"}, "body"),
        ({"period_start": "2019-02-30"}, "body.period_start"),
        ({"members": [{"cluster": "nobody"}]}, "body.members.0.cluster"),
        ({"members": [{"cluster": "x", "role": "boss"}]}, "body.members.0.role"),
        ({"activities": ["\x00"]}, "body.activities.0"),
        ({"sectors": ["unknown-sector"]}, "body.sectors"),
        ({"acronym": ""}, "body.acronym"),
    ],
)
async def test_bad_partnerships_are_422(client, fields, location):
    body = factories.partnership() | fields
    assert_problem(await client.post("/v1/partnerships", json=body), 422, location)
    assert_problem(await client.get(f"/v1/partnerships/{body['slug']}"), 404)


async def test_free_text_strand_only_for_other_programmes(client):
    created = await factories.create(client, "/v1/partnerships", factories.partnership(programme="other", strand="pilot"))
    assert created["strand"] == "pilot"


async def test_the_same_member_twice_is_refused(client, clusters):
    slug, cluster_id = clusters[0]["slug"], clusters[0]["id"]
    body = factories.partnership(members=[{"cluster": slug}, {"cluster": cluster_id}])
    assert_problem(await client.post("/v1/partnerships", json=body), 422, "body.members")


async def test_members_can_be_added_changed_and_removed(client, clusters):
    partnership = await factories.create(
        client, "/v1/partnerships", factories.partnership(members=[{"cluster": clusters[0]["slug"], "role": "coordinator"}])
    )
    base = f"/v1/partnerships/{partnership['slug']}/members"
    added = await client.post(base, json={"cluster": clusters[1]["slug"]})
    assert added.status_code == 201
    assert added.json()["cluster"]["id"] == clusters[1]["id"] and added.json()["role"] == "partner"
    assert added.headers["location"].endswith(f"/members/{clusters[1]['slug']}")

    assert_problem(await client.post(base, json={"cluster": clusters[1]["id"]}), 409)
    assert_problem(await client.post(base, json={"cluster": "ghost"}), 422, "body.members.0.cluster")

    changed = await client.patch(f"{base}/{clusters[1]['id']}", json={"role": "coordinator"})
    assert changed.status_code == 200 and changed.json()["role"] == "coordinator"

    listed = (await client.get(base)).json()
    assert [m["cluster"]["slug"] for m in listed["items"]] == [clusters[0]["slug"], clusters[1]["slug"]]
    assert listed["next_cursor"] is None

    assert (await client.delete(f"{base}/{clusters[0]['slug']}")).status_code == 204
    assert_problem(await client.get(f"{base}/{clusters[0]['slug']}"), 404)
    assert_problem(await client.delete(f"{base}/{clusters[0]['slug']}"), 404)
    remaining = (await client.get(f"/v1/partnerships/{partnership['id']}")).json()["members"]
    assert [m["cluster"]["slug"] for m in remaining] == [clusters[1]["slug"]]
    # the cluster that left can now be deleted
    assert (await client.delete(f"/v1/clusters/{clusters[0]['id']}")).status_code == 204


async def test_membership_changes_change_the_partnership_etag(client, clusters):
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership())
    url = f"/v1/partnerships/{partnership['id']}"
    etag = (await client.get(url)).headers["etag"]
    await client.post(f"{url}/members", json={"cluster": clusters[0]["slug"]})
    after = await client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert after.json()["updated_at"] > partnership["updated_at"]
    stale = await client.post(f"{url}/members", json={"cluster": clusters[1]["slug"]}, headers={"If-Match": etag})
    assert_problem(stale, 412)


async def test_patch_replaces_the_member_list_keeping_those_who_stay(client, clusters):
    partnership = await factories.create(
        client, "/v1/partnerships",
        factories.partnership(members=[{"cluster": clusters[0]["slug"]}, {"cluster": clusters[1]["slug"]}]),
    )
    url = f"/v1/partnerships/{partnership['id']}"
    joined = partnership["members"][1]["joined_at"]
    response = await client.patch(url, json={"members": [{"cluster": clusters[1]["slug"], "role": "coordinator"}, {"cluster": clusters[2]["slug"]}]})
    assert response.status_code == 200, response.text
    members = response.json()["members"]
    assert [(m["cluster"]["slug"], m["role"]) for m in members] == [
        (clusters[1]["slug"], "coordinator"), (clusters[2]["slug"], "partner"),
    ]
    assert members[0]["joined_at"] == joined
    # a PATCH without members leaves them alone
    renamed = (await client.patch(url, json={"name": "Renamed"})).json()
    assert len(renamed["members"]) == 2


async def test_deleting_a_partnership_removes_its_memberships(client, clusters):
    partnership = await factories.create(
        client, "/v1/partnerships", factories.partnership(members=[{"cluster": clusters[0]["slug"]}])
    )
    assert (await client.delete(f"/v1/partnerships/{partnership['slug']}")).status_code == 204
    assert (await client.delete(f"/v1/clusters/{clusters[0]['slug']}")).status_code == 204
