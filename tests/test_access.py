"""API keys: issuing, listing, revoking; 401 and 403; settings that require keys or If-Match;
Idempotency-Key. Concurrent writers: tests/ops/test_concurrent_writes.py."""


import pytest

from service.config import AccessSettings
from tests import factories
from tests.conftest import issue_key, make_client
from tests.problems import assert_problem


async def test_keys_are_issued_once_listed_without_secrets_and_revoked(client, anonymous):
    created = await client.post("/v1/api-keys", json={"name": "website", "scope": "write"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    key = created.json()["key"]
    assert key.startswith("pop_") and created.json()["prefix"] in key
    listed = (await client.get("/v1/api-keys")).json()["items"]
    assert created.json()["id"] in {k["id"] for k in listed}
    assert all("key" not in k and key not in str(k) for k in listed)

    async with make_client(client._transport.app, key) as holder:
        assert (await holder.post("/v1/clusters", json=factories.cluster())).status_code == 201
        assert_problem(await holder.get("/v1/api-keys"), 403)  # keys are for admins
        assert (await client.delete(f"/v1/api-keys/{created.json()['id']}")).status_code == 204
        refused = await holder.post("/v1/clusters", json=factories.cluster())
        assert_problem(refused, 401)
        assert refused.headers["www-authenticate"] == 'Bearer realm="partnerships", error="invalid_token"'
    revoked = (await client.get("/v1/api-keys", params={"include_revoked": True})).json()["items"]
    assert next(k for k in revoked if k["id"] == created.json()["id"])["revoked_at"]
    assert_problem(await client.post("/v1/api-keys", json={"name": "x", "cluster": "nobody"}), 422, "body.cluster")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer pop_short", "Bearer " + "x" * 500])
async def test_malformed_credentials_are_401(anonymous, header):
    response = await anonymous.get("/v1/clusters", headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith('Bearer realm="partnerships"')


async def test_writes_need_a_key_reads_do_not(anonymous):
    assert (await anonymous.get("/v1/clusters")).status_code == 200
    response = await anonymous.post("/v1/clusters", json=factories.cluster())
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="partnerships"'


async def test_reads_can_require_a_key(app, anonymous, session):
    app.state.settings = app.state.settings.model_copy(update={"access": AccessSettings(reads_require_key=True)})
    assert_problem(await anonymous.get("/v1/clusters"), 401)
    assert (await anonymous.get("/healthz")).status_code == 200  # probes stay open
    async with make_client(app, await issue_key(session, "read")) as reader:
        assert (await reader.get("/v1/clusters")).status_code == 200
        assert_problem(await reader.post("/v1/clusters", json=factories.cluster()), 403)


async def test_if_match_can_be_required(app, client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    app.state.settings = app.state.settings.model_copy(update={"access": AccessSettings(if_match_required=True)})
    url = f"/v1/clusters/{cluster['id']}"
    assert_problem(await client.patch(url, json={"city": "Lyon"}), 428)
    assert_problem(await client.delete(url), 428)
    etag = (await client.get(url)).headers["etag"]
    assert (await client.patch(url, json={"city": "Lyon"}, headers={"If-Match": etag})).status_code == 200
    assert (await client.post("/v1/clusters", json=factories.cluster())).status_code == 201  # creates need none


async def test_idempotency_key_replays_the_first_answer(client):
    body = factories.cluster()
    first = await client.post("/v1/clusters", json=body, headers={"Idempotency-Key": "create-1"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = await client.post("/v1/clusters", json=body, headers={"Idempotency-Key": "create-1"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert_problem(await client.post("/v1/clusters", json=body | {"name": "Other"}, headers={"Idempotency-Key": "create-1"}), 422)
    # a refused request (duplicate slug) is answered again the same way
    duplicate = await client.post("/v1/clusters", json=body, headers={"Idempotency-Key": "create-2"})
    assert_problem(duplicate, 409)
    assert_problem(await client.post("/v1/clusters", json=body, headers={"Idempotency-Key": "create-2"}), 409)


async def test_idempotency_keys_belong_to_their_client(app, client, session):
    body = factories.cluster()
    assert (await client.post("/v1/clusters", json=body, headers={"Idempotency-Key": "shared"})).status_code == 201
    async with make_client(app, await issue_key(session, "write")) as other:
        # The same key from another client is another request: it acts (and meets the slug).
        assert_problem(await other.post("/v1/clusters", json=body, headers={"Idempotency-Key": "shared"}), 409)
        created = await other.post("/v1/clusters", json=factories.cluster(), headers={"Idempotency-Key": "shared"})
        assert created.status_code == 201


# Concurrency: a real pool against a committed database ------------------------------------------


async def test_an_admin_key_cannot_be_bound_to_a_cluster(client):
    await factories.create(client, "/v1/clusters", factories.cluster(slug="bound-here"))
    before = len((await client.get("/v1/api-keys")).json()["items"])
    refused = await client.post("/v1/api-keys", json={"name": "x", "scope": "admin", "cluster": "bound-here"})
    assert "admin key cannot be bound" in assert_problem(refused, 422, "body.cluster")["errors"][0]["message"]
    assert len((await client.get("/v1/api-keys")).json()["items"]) == before
    bound = await client.post("/v1/api-keys", json={"name": "x", "scope": "bulk", "cluster": "bound-here"})
    assert bound.status_code == 201 and bound.json()["cluster"] == "bound-here"


async def test_a_key_bound_to_a_cluster_is_listed_with_that_clusters_slug(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    created = await client.post("/v1/api-keys", json={"name": "member", "scope": "write", "cluster": cluster["slug"]})
    assert created.status_code == 201 and created.json()["cluster"] == cluster["slug"]
    listed = (await client.get("/v1/api-keys")).json()["items"]
    assert next(k for k in listed if k["id"] == created.json()["id"])["cluster"] == cluster["slug"]
