"""Idempotency-Key: a retry answers the first answer; a different body under the same key is
refused; a key still in use by a running request answers 409."""

import hashlib

from sqlalchemy import text

from service.bulk.idempotency import LOCK_CLASS
from tests import factories
from tests.bulk.helpers import counts, load, ndjson
from tests.problems import assert_problem


async def test_a_retry_gets_the_same_report_and_is_not_applied_twice(client, session):
    rows = [factories.cluster() for _ in range(3)]
    first = await load(client, "clusters", ndjson(*rows), headers={"Idempotency-Key": "upload-1"})
    assert first.status_code == 200 and counts(first.json()) == (3, 0, 0, 0)
    await client.patch(f"/v1/clusters/{rows[0]['slug']}", json={"name": "Changed since"})

    retry = await load(client, "clusters", ndjson(*rows), headers={"Idempotency-Key": "upload-1"})
    assert retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    # Not applied again: the change made since is still there.
    assert (await client.get(f"/v1/clusters/{rows[0]['slug']}")).json()["name"] == "Changed since"

    # Without the key, the same file is a new load.
    again = await load(client, "clusters", ndjson(*rows))
    assert counts(again.json()) == (0, 1, 2, 0) and "Idempotent-Replayed" not in again.headers


async def test_a_refused_strict_load_is_replayed_too(client, session):
    rows = ndjson(factories.cluster(), {"slug": "bad"})
    first = await load(client, "clusters", rows, headers={"Idempotency-Key": "strict-1"})
    assert_problem(first, 422)
    retry = await load(client, "clusters", rows, headers={"Idempotency-Key": "strict-1"})
    assert retry.status_code == 422 and retry.json() == first.json()


async def test_the_same_key_with_a_different_request_is_refused(client):
    rows = [factories.cluster()]
    assert (await load(client, "clusters", ndjson(*rows), headers={"Idempotency-Key": "k"})).status_code == 200
    other_body = await load(client, "clusters", ndjson(factories.cluster()), headers={"Idempotency-Key": "k"})
    assert_problem(other_body, 422, "header.Idempotency-Key")
    other_mode = await load(client, "clusters", ndjson(*rows), headers={"Idempotency-Key": "k"}, mode="partial")
    assert_problem(other_mode, 422, "header.Idempotency-Key")
    other_resource = await load(client, "target-markets", ndjson(*rows), headers={"Idempotency-Key": "k"})
    assert_problem(other_resource, 422, "header.Idempotency-Key")


async def test_a_key_in_use_by_a_running_request_answers_409(client, engine, session, admin_key):
    # Another request holding the key is another transaction holding its lock; keys are
    # held per client (the digest of its API key).
    held = f"token:{hashlib.sha256(admin_key.encode()).hexdigest()}:busy"
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_advisory_lock(:c, hashtext(:k))"), {"c": LOCK_CLASS, "k": held})
        try:
            response = await load(client, "clusters", ndjson(factories.cluster()), headers={"Idempotency-Key": "busy"})
            assert_problem(response, 409)
        finally:
            await other.execute(text("SELECT pg_advisory_unlock(:c, hashtext(:k))"), {"c": LOCK_CLASS, "k": held})
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 0
    response = await load(client, "clusters", ndjson(factories.cluster()), headers={"Idempotency-Key": "busy"})
    assert response.status_code == 200


async def test_expired_keys_are_forgotten(client, session):
    rows = ndjson(factories.cluster())
    assert (await load(client, "clusters", rows, headers={"Idempotency-Key": "old"})).status_code == 200
    await session.execute(text("UPDATE bulk_idempotency_keys SET created_at = created_at - interval '25 hours'"))
    again = await load(client, "clusters", rows, headers={"Idempotency-Key": "old"})
    assert counts(again.json()) == (0, 0, 1, 0) and "Idempotent-Replayed" not in again.headers
