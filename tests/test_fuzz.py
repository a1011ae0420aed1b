"""Schemathesis against the OpenAPI document: every operation, with schema-valid and
schema-violating requests, examples, coverage, fuzzing and stateful phases.

It runs a real `partnerships serve --demo` on a scratch database with an admin key, so
writes are authorised and reads find records, and drives it with the schemathesis command
(its pytest plugin does not load under this pytest). Every check runs but
`positive_data_acceptance`; tests/schemathesis.toml says why.

FUZZ_EXAMPLES (default 15) sets examples per operation and phase.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.migrate import upgrade
from tests.conftest import create_scratch_database, drop_database
from tests.ops.conftest import admin_key_in
from tests.test_cli import _env, _free_port

CLI = [sys.executable, "-m", "service.cli"]
SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
CONFIG = Path(__file__).parent / "schemathesis.toml"
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "15")


@pytest.fixture(scope="module")
async def served(server_url):
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    await upgrade(engine)
    await engine.dispose()
    key = await admin_key_in(url)
    port = _free_port()
    env = _env(url, LIMITS__READS_PER_MINUTE="0", LIMITS__WRITES_PER_MINUTE="0", LOG__LEVEL="WARNING")
    process = subprocess.Popen([*CLI, "serve", "--demo", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.3)
    try:
        yield base, key
    finally:
        process.terminate()
        process.communicate(timeout=30)
        await drop_database(server_url, url)


def test_every_operation_holds_to_its_schema(served):
    base, key = served
    run = subprocess.run(
        [SCHEMATHESIS, "--no-color", "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
         "--header", f"Authorization: Bearer {key}",
         "--max-examples", EXAMPLES, "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=1200,
    )
    summary = run.stdout[run.stdout.rfind("SUMMARY"):]
    tested = re.search(r"Tested: (\d+)", summary)
    assert tested and int(tested.group(1)) >= 60, summary  # every operation was reached
    assert run.returncode == 0, run.stdout[-20_000:]
