"""A POST with an Idempotency-Key reserves its key in the database first: during an outage
it answers 503 problem+json like every other request, not 500."""

import socket
import time
from contextlib import closing

from service.access import keys
from tests.ops.conftest import live_client, live_settings
from tests.ops.test_faults import assert_unavailable


async def test_an_idempotent_post_to_a_database_that_refuses_connections_answers_503():
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    settings = live_settings(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    async with live_client(settings, key=keys.new_key()[0]) as client:
        for path, body in [("/v1/sectors", {"code": "x", "name": "X"}), ("/v1/api-keys", {"name": "n", "scope": "read"})]:
            started = time.monotonic()
            problem = assert_unavailable(await client.post(path, json=body, headers={"Idempotency-Key": "during-outage"}))
            assert time.monotonic() - started < 1.0, path
            assert problem["instance"] == path and problem["request_id"]
