"""Clusters: the CRUD conventions every resource shares, checked in full once here."""

import pytest

from tests import factories
from tests.problems import assert_problem


async def test_create_returns_201_location_etag_and_normalises_eu_country_codes(client):
    response = await client.post("/v1/clusters", json=factories.cluster(country="EL", target_markets=[{"country": "UK"}]))
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/clusters/{body['id']}"
    assert response.headers["etag"].startswith('"')
    assert body["country"] == "GR"
    assert body["target_markets"] == [{"country": "GB", "priority": None}]
    assert body["label"] == "none" and body["created_at"] and body["updated_at"]


async def test_get_by_id_or_slug(client):
    created = await factories.create(client, "/v1/clusters", factories.cluster())
    by_id = await client.get(f"/v1/clusters/{created['id']}")
    by_slug = await client.get(f"/v1/clusters/{created['slug']}")
    assert by_id.json() == by_slug.json() == created


async def test_unknown_cluster_is_404_problem(client):
    assert_problem(await client.get("/v1/clusters/no-such-cluster"), 404)
    assert_problem(await client.get("/v1/clusters/5f0c6a9e-1111-4c4c-8888-000000000000"), 404)


async def test_duplicate_slug_is_409(client):
    body = factories.cluster()
    await factories.create(client, "/v1/clusters", body)
    problem = assert_problem(await client.post("/v1/clusters", json=body | {"name": "Other"}), 409)
    assert body["slug"] in problem["detail"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"unexpected": 1}, "body.unexpected"),
        ({"country": "XX"}, "body.country"),
        ({"country": "France"}, "body.country"),
        ({"sectors": ["no-such-sector"]}, "body.sectors"),
        ({"sectors": ["photonics", "photonics"]}, "body"),
        ({"name": "a\x00b"}, "body.name"),
        ({"name": "x" * 301}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"description": "y" * 20_001}, "body.description"),
        ({"member_count": 2**63}, "body.member_count"),
        ({"member_count": -1}, "body.member_count"),
        ({"founded_year": 99999}, "body.founded_year"),
        ({"website": "ftp://example.org"}, "body.website"),
        ({"website": "not a url"}, "body.website"),
        ({"email": "nobody"}, "body.email"),
        ({"label": "platinum"}, "body.label"),
        ({"slug": "Not A Slug"}, "body.slug"),
        ({"region": {"code": "DE21", "name": "Oberbayern"}}, "body"),
        ({"target_markets": [{"country": "US"}, {"country": "US"}]}, "body"),
        ({"target_markets": [{"country": "US", "priority": 0}]}, "body.target_markets.0.priority"),
        ({"member_count": 10, "sme_count": 11}, "body"),
    ],
)
async def test_bad_input_is_422_and_changes_nothing(client, fields, location):
    body = factories.cluster(country="FR") | fields
    assert_problem(await client.post("/v1/clusters", json=body), 422, location)
    assert (await client.get(f"/v1/clusters/{body['slug']}")).status_code in (404, 422)


async def test_region_must_belong_to_the_country_using_nuts_prefixes(client):
    greek = await factories.create(
        client, "/v1/clusters", factories.cluster(country="GR", region={"code": "EL30", "name": "Attiki"})
    )
    assert greek["region"] == {"code": "EL30", "name": "Attiki", "nuts_version": "2021"}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"slug": "x", "name": "\\ud800", "country": "FR"}',  # lone surrogate
        b'{"slug": "x", "name": ',  # truncated JSON
        b"\xff\xfe not utf-8",
        b"[]",
        b'"just a string"',
    ],
)
async def test_malformed_bodies_are_422(client, raw):
    response = await client.post("/v1/clusters", content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 422)


async def test_patch_merges_fields_and_validates_the_result(client):
    created = await factories.create(client, "/v1/clusters", factories.cluster(city="Lyon", member_count=10))
    url = f"/v1/clusters/{created['id']}"
    response = await client.patch(url, json={"name": "Renamed", "city": None})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed" and body["city"] is None
    assert body["member_count"] == 10 and body["sectors"] == created["sectors"]
    assert body["updated_at"] >= created["updated_at"]
    # A required field cannot be nulled; a cross-field rule still holds after merging.
    assert_problem(await client.patch(url, json={"name": None}), 422, "body.name")
    assert_problem(await client.patch(url, json={"sme_count": 11}), 422)
    assert_problem(await client.patch(url, json={"nonsense": True}), 422, "body.nonsense")
    assert (await client.get(url)).json()["name"] == "Renamed"


async def test_patch_to_an_existing_slug_is_409(client):
    first = await factories.create(client, "/v1/clusters", factories.cluster())
    second = await factories.create(client, "/v1/clusters", factories.cluster())
    assert_problem(await client.patch(f"/v1/clusters/{second['id']}", json={"slug": first["slug"]}), 409)


async def test_etag_if_none_match_and_if_match(client):
    created = await factories.create(client, "/v1/clusters", factories.cluster())
    url = f"/v1/clusters/{created['id']}"
    first = await client.get(url)
    etag = first.headers["etag"]
    not_modified = await client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.headers["etag"] == etag

    changed = await client.patch(url, json={"city": "Paris"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag

    stale = await client.patch(url, json={"city": "Nice"}, headers={"If-Match": etag})
    assert_problem(stale, 412)
    assert (await client.get(url)).json()["city"] == "Paris"
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 200
    assert_problem(await client.delete(url, headers={"If-Match": etag}), 412)
    assert (await client.delete(url, headers={"If-Match": changed.headers["etag"]})).status_code == 204


async def test_delete_then_404(client):
    created = await factories.create(client, "/v1/clusters", factories.cluster())
    url = f"/v1/clusters/{created['slug']}"
    assert (await client.delete(url)).status_code == 204
    assert_problem(await client.get(url), 404)
    assert_problem(await client.delete(url), 404)


async def test_a_partnership_member_cannot_be_deleted(client):
    member = await factories.create(client, "/v1/clusters", factories.cluster())
    await factories.create(
        client, "/v1/partnerships", factories.partnership(members=[{"cluster": member["slug"], "role": "coordinator"}])
    )
    problem = assert_problem(await client.delete(f"/v1/clusters/{member['id']}"), 409)
    assert member["slug"] in problem["detail"]
    assert (await client.get(f"/v1/clusters/{member['id']}")).status_code == 200


async def test_a_body_that_is_not_text_is_400(client):
    response = await client.post("/v1/clusters", content=b"b\xe9|\x10b", headers={"content-type": "application/json"})
    assert assert_problem(response, 400)["title"] == "Bad request"
    assert (await client.get("/v1/clusters", params={"limit": 200})).json()["items"] == []


@pytest.mark.parametrize(("path", "allowed"), [
    ("/v1/clusters", "GET, HEAD, POST"),
    ("/v1/clusters/opticsvalley", "DELETE, GET, HEAD, PATCH"),
    ("/v1/missions/x.ics", "GET, HEAD"),  # the feed's route, not /missions/{id}'s
])
async def test_405_names_every_method_the_path_serves(client, path, allowed):
    response = await client.request("PUT", path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize("value", ["0", "20270101", "2027-1-1", "1.5"])
async def test_dates_are_iso_text_only(client, value):
    assert_problem(await client.get("/v1/missions", params={"starts_before": value}), 422, "query.starts_before")
