"""A client that drops the connection mid-body gets nothing applied."""

import json

from sqlalchemy import text

from tests import factories
from tests.bulk.helpers import ndjson


async def _call(app, path: str, chunks: list[bytes], disconnect: bool, headers: dict[str, str]) -> list[dict]:
    """Run one request through the ASGI app; the body arrives in chunks and, when
    disconnect is set, the client goes away instead of sending the last piece."""
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.disconnect"} if disconnect else {"type": "http.request", "body": b"", "more_body": False})
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"mode=partial", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1), "server": ("test", 80),
    }
    await app(scope, receive, send)
    return sent


async def test_an_interrupted_upload_commits_nothing(app, session, admin_key):
    app.state.settings.bulk.batch_rows = 100  # several batches reach the staging table before the drop
    body = ndjson(*(factories.cluster() for _ in range(1000)))
    chunks = [body[i : i + 4096] for i in range(0, len(body) * 3 // 4, 4096)]
    sent = await _call(app, "/v1/bulk/clusters", chunks, disconnect=True, headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {admin_key}"})
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 400
    problem = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    assert problem["type"] == "/problems/body-interrupted"
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 0

    # The same upload, whole, goes through on the same connection.
    sent = await _call(app, "/v1/bulk/clusters", [body], disconnect=False, headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {admin_key}"})
    assert next(m for m in sent if m["type"] == "http.response.start")["status"] == 200
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 1000
