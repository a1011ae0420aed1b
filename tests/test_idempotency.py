"""Idempotency-Key answers: a secret is never kept at rest, and expired answers are purged."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from tests import factories
from tests.problems import assert_problem

IDEMPOTENCY_ROWS = text(
    "SELECT status, headers, body, secret_withheld, row_to_json(r)::text AS whole FROM idempotency_records r WHERE key = :key"
)


async def test_a_new_api_key_is_never_stored_and_a_retry_is_told_where_it_is(client, session):
    body = {"name": "website", "scope": "write"}
    first = await client.post("/v1/api-keys", json=body, headers={"Idempotency-Key": "issue-1"})
    assert first.status_code == 201
    secret = first.json()["key"]

    row = (await session.execute(IDEMPOTENCY_ROWS, {"key": "issue-1"})).one()
    assert row.body is None and row.secret_withheld and row.status == 201
    assert secret not in row.whole and secret.split("_")[-1] not in row.whole
    assert row.headers == [["location", first.headers["location"]]]

    again = await client.post("/v1/api-keys", json=body, headers={"Idempotency-Key": "issue-1"})
    problem = assert_problem(again, 409)
    assert again.headers["location"] == first.headers["location"] and again.headers["idempotent-replayed"] == "true"
    assert "shown only once" in problem["detail"] and secret not in again.text
    issued = [k for k in (await client.get("/v1/api-keys")).json()["items"] if k["name"] == "website"]
    assert [k["id"] for k in issued] == [first.json()["id"]]  # the retry issued nothing
    # Another request under the same key is still refused as such.
    assert_problem(await client.post("/v1/api-keys", json=body | {"name": "x"}, headers={"Idempotency-Key": "issue-1"}), 422)


async def test_answers_without_a_secret_are_still_replayed_whole(client, session):
    first = await client.post("/v1/clusters", json=factories.cluster(), headers={"Idempotency-Key": "plain"})
    row = (await session.execute(IDEMPOTENCY_ROWS, {"key": "plain"})).one()
    assert not row.secret_withheld and row.body == first.content


def _insert_answers(keys: str, age: str) -> str:
    """SQL inserting expired or fresh answers, keys from a generate_series expression."""
    return f"""
        INSERT INTO idempotency_records (client, key, fingerprint, status, headers, body, created_at)
        SELECT 'someone', {keys}, repeat('0', 64), 201, '[]', 'answer', statement_timestamp() - interval '{age}'
        FROM generate_series(1, :n) AS i;
        INSERT INTO bulk_idempotency_keys (key, fingerprint, status_code, response, created_at)
        SELECT 'someone:' || {keys}, repeat('0', 64), 200, '{{}}', statement_timestamp() - interval '{age}'
        FROM generate_series(1, :n) AS i
    """


async def _insert(session, keys: str, age: str, n: int) -> None:
    for statement in _insert_answers(keys, age).split(";"):
        await session.execute(text(statement), {"n": n})
    await session.commit()


async def _count(session, table: str, prefix: str) -> int:
    column = "key" if table == "idempotency_records" else "substr(key, 9)"
    return await session.scalar(text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :p"), {"p": f"{prefix}%"})


async def test_expired_answers_are_purged_a_bounded_batch_at_most_once_a_minute(client, session):
    await _insert(session, "'old-' || i", "25 hours", 1005)  # the default TTL is 24 hours
    await _insert(session, "'fresh-' || i", "23 hours", 3)

    assert (await client.post("/v1/clusters", json=factories.cluster(), headers={"Idempotency-Key": "now"})).status_code == 201
    for table in ["idempotency_records", "bulk_idempotency_keys"]:
        assert await _count(session, table, "old-") == 5, table  # one batch of 1000 went
        assert await _count(session, table, "fresh-") == 3, table

    # Within the minute, another request purges nothing more.
    assert (await client.post("/v1/clusters", json=factories.cluster(), headers={"Idempotency-Key": "soon"})).status_code == 201
    assert await _count(session, "idempotency_records", "old-") == 5


async def test_an_expired_key_acts_again(client, session):
    await _insert(session, "'again'", "25 hours", 1)
    body = factories.cluster()
    # Its stored fingerprint differs from this request's: were it not expired, this would be a 422.
    assert (await client.post("/v1/clusters", json=body, headers={"Idempotency-Key": "again"})).status_code == 201


@pytest.mark.slow
async def test_the_purge_command_deletes_every_expired_answer(committed_database):
    url, engine = committed_database
    async with engine.connect() as connection:
        await _insert(connection, "'old-' || i", "25 hours", 2500)
        await _insert(connection, "'fresh-' || i", "1 hour", 2)
    env = os.environ | {"DATABASE_URL": url.render_as_string(hide_password=False)}
    done = subprocess.run([sys.executable, "-m", "service.cli", "purge"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "purged 2500 idempotency answers and 2500 bulk-load answers" in done.stdout
    async with engine.connect() as connection:
        for table in ["idempotency_records", "bulk_idempotency_keys"]:
            assert await _count(connection, table, "old-") == 0
            assert await _count(connection, table, "fresh-") == 2
