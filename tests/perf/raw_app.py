"""The limit: a bare ASGI app replaying, through raw asyncpg, the SQL the service ran.

For each query class the benchmark records the statements the service executed for one
request (text and parameters, as SQLAlchemy handed them to asyncpg) and this app runs
exactly those, in a transaction as the service does, and answers the rows as JSON. What the
service spends beyond this is its own overhead.

Run: RAW_STATEMENTS=file.pickle DATABASE_URL=... uvicorn tests.perf.raw_app:app
"""

import json
import os
import pickle

import asyncpg

from service.db import to_asyncpg_url

STATEMENTS: dict[str, list[tuple[str, tuple]]] = pickle.loads(open(os.environ["RAW_STATEMENTS"], "rb").read())
SERVER_SETTINGS = json.loads(os.environ.get("RAW_SERVER_SETTINGS", "{}"))
pool: asyncpg.Pool | None = None


def _dsn() -> dict:
    url = to_asyncpg_url(os.environ["DATABASE_URL"])
    return {"host": url.query.get("host") or url.host, "port": url.port, "user": url.username,
            "password": url.password, "database": url.database}


async def _lifespan(receive, send):
    global pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("RAW_POOL_SIZE", "10"))
            pool = await asyncpg.create_pool(**_dsn(), min_size=size, max_size=size, server_settings=SERVER_SETTINGS)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    statements = STATEMENTS.get(scope["path"].removeprefix("/raw/"))
    if statements is None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    async with pool.acquire() as connection, connection.transaction():
        results = [[dict(row) for row in await connection.fetch(sql, *params)] for sql, params in statements]
    body = json.dumps(results, default=str).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
