"""Request ids and structured logs."""

import io
import json
import logging
import uuid

import pytest

from service.config import LogSettings
from service.ops.logging import configure_logging
from tests.problems import assert_problem


@pytest.fixture
def log_lines():
    """What configure_logging writes, as the lines of one stream."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handlers = []

    def configure(fmt: str = "json") -> None:
        handlers.append(configure_logging(LogSettings(format=fmt, level="INFO"), stream=stream))

    def service_lines() -> list[str]:
        # The test's own HTTP client (httpx) logs its requests' URLs; the service does not.
        return [line for line in stream.getvalue().splitlines() if "httpx" not in line]

    yield configure, service_lines
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_an_incoming_request_id_is_echoed(client):
    response = await client.get("/v1/sectors", headers={"X-Request-ID": "trace-42.abc_DEF"})
    assert response.headers["X-Request-ID"] == "trace-42.abc_DEF"


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "tab\there", "ünïcode", ""])
async def test_an_invalid_request_id_is_replaced_by_a_uuid(client, bad):
    response = await client.get("/v1/sectors", headers={"X-Request-ID": bad.encode()})
    assert str(uuid.UUID(response.headers["X-Request-ID"])) == response.headers["X-Request-ID"]


async def test_every_response_gets_a_fresh_id_and_problems_repeat_it(client):
    first = await client.get("/v1/sectors")
    second = await client.get("/v1/clusters/no-such-cluster")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert assert_problem(second, 404)["request_id"] == second.headers["X-Request-ID"]


async def test_access_log_is_one_json_object_per_request_with_its_context(client, log_lines):
    configure, lines = log_lines
    configure("json")
    await client.get("/v1/clusters/no-such-cluster", headers={"X-Request-ID": "req-1"})
    records = [json.loads(line) for line in lines()]
    access = [r for r in records if r["logger"] == "partnerships.access"]
    assert len(access) == 1
    entry = access[0]
    assert {"time", "level", "logger", "message", "request_id", "method", "path", "status", "duration_ms", "client"} <= set(entry)
    assert entry["request_id"] == "req-1" and entry["method"] == "GET" and entry["status"] == 404
    assert entry["path"] == "/v1/clusters/no-such-cluster" and entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00") and entry["duration_ms"] >= 0


async def test_logs_written_during_a_request_carry_its_id(client, log_lines):
    configure, lines = log_lines
    configure("json")
    app_logger = logging.getLogger("service.test")

    @client._transport.app.get("/v1/log-something")  # noqa: SLF001 - a route only for this test
    async def log_something():
        app_logger.warning("inside the handler")
        return {}

    await client.get("/v1/log-something", headers={"X-Request-ID": "req-2"})
    inside = [json.loads(line) for line in lines() if "inside the handler" in line]
    assert inside and inside[0]["request_id"] == "req-2" and inside[0]["path"] == "/v1/log-something"


async def test_credentials_and_query_strings_are_never_logged(client, log_lines):
    configure, lines = log_lines
    configure("json")
    secret = "s3cr3t-token-value"
    await client.get(
        f"/v1/clusters?api_key={secret}&token={secret}", headers={"Authorization": f"Bearer {secret}"}
    )
    await client.post("/v1/clusters?access_token=" + secret, json={}, headers={"Authorization": secret})
    output = "\n".join(lines())
    assert "partnerships.access" in output
    assert secret not in output and "api_key" not in output and "Bearer" not in output


async def test_text_format_is_one_readable_line_with_the_request_id(client, log_lines):
    configure, lines = log_lines
    configure("text")
    await client.get("/v1/sectors", headers={"X-Request-ID": "req-3"})
    access = [line for line in lines() if "partnerships.access" in line]
    assert len(access) == 1
    assert "INFO partnerships.access: GET /v1/sectors 200" in access[0] and access[0].endswith("[req-3]")


async def test_probes_are_logged_at_debug_only(client, log_lines):
    configure, lines = log_lines
    configure("json")
    await client.get("/healthz")
    assert not [line for line in lines() if "/healthz" in line]
