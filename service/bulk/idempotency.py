"""Idempotency-Key: a retried upload gets the first answer and is not applied twice.

While a request holds a key it holds a transaction-scoped advisory lock on it, so a second
request with the same key, arriving while the first still runs, is told so (409) instead of
waiting or applying the file again; the lock goes with the transaction, whatever ends it.
The answer is stored in the same transaction as the data it describes: either both are
committed or neither is, and a retry after a failure is simply processed again.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

# Advisory locks of bulk loads live in their own class (the first key of the pair) so as not
# to collide with other users of advisory locks; the second key is a hash of the
# Idempotency-Key. Two keys with the same hash only make one of them wait its turn (409).
LOCK_CLASS = 0x42554C4B  # "BULK"


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status_code: int
    response: dict[str, Any]


def fingerprint(resource: str, format: str, mode: str, dry_run: bool, body_digest: str) -> str:
    """What makes a request the same request: the resource, how to load, and the body as sent."""
    return hashlib.sha256(f"{resource}\n{format}\n{mode}\n{dry_run}\n{body_digest}".encode()).hexdigest()


async def hold(conn: asyncpg.Connection, key: str) -> bool:
    """Take the key for this transaction; False when another request holds it."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, hashtext($2))", LOCK_CLASS, key))


async def find(conn: asyncpg.Connection, key: str, ttl_hours: int) -> StoredAnswer | None:
    row = await conn.fetchrow(
        """SELECT fingerprint, status_code, response FROM bulk_idempotency_keys
           WHERE key = $1 AND created_at > statement_timestamp() - make_interval(hours => $2)""",
        key, ttl_hours,
    )
    return StoredAnswer(row["fingerprint"], row["status_code"], row["response"]) if row else None


async def store(conn: asyncpg.Connection, key: str, answer: StoredAnswer, ttl_hours: int) -> None:
    # Expired keys are purged as new ones come: the table only ever holds one TTL's worth.
    await conn.execute(
        "DELETE FROM bulk_idempotency_keys WHERE created_at <= statement_timestamp() - make_interval(hours => $1)",
        ttl_hours,
    )
    await conn.execute(
        """INSERT INTO bulk_idempotency_keys (key, fingerprint, status_code, response) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, status_code = excluded.status_code,
               response = excluded.response, created_at = excluded.created_at""",
        key, answer.fingerprint, answer.status_code, json.dumps(answer.response),  # jsonb is given as text
    )
