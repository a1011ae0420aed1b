"""Schemathesis against the OpenAPI document: every operation, with schema-valid and
schema-violating requests, examples, coverage, fuzzing and stateful phases.

It runs a real `partnerships serve --demo` on a scratch database with an admin key, so
writes are authorised and reads find records, and drives it with the schemathesis command
(its pytest plugin does not load under this pytest). Every check runs; tests/schemathesis.toml
lists the operations where `positive_data_acceptance` is off, and why.

FUZZ_EXAMPLES (default 15) sets examples per operation and phase.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from service.main import create_app
from tests.conftest import drop_database
from tests.ops.conftest import ServeProcess, admin_key_in, migrated_scratch_database, url_text

SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
CONFIG = Path(__file__).parent / "schemathesis.toml"
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "15")


@pytest.fixture(scope="module")
async def served(server_url, tmp_path_factory):
    url = await migrated_scratch_database(server_url)
    key = await admin_key_in(url)
    # Schemathesis sends refused credentials on purpose: no limit may turn its later requests into 429s.
    env = {"DATABASE_URL": url_text(url), "LIMITS__READS_PER_MINUTE": "0", "LIMITS__WRITES_PER_MINUTE": "0",
           "LIMITS__AUTH_FAILURES_PER_MINUTE": "0", "LOG__LEVEL": "WARNING"}
    server = ServeProcess(env, tmp_path_factory.mktemp("fuzz") / "serve.log", args=("--demo",))
    try:
        await server.wait_ready(timeout=90)
        yield server.base_url, key
    finally:
        server.stop()
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
    print("\n" + "\n".join(line for line in summary.splitlines() if re.search(r"Tested:|generated", line)))


def test_operations_kept_from_positive_data_acceptance_exist():
    # A renamed operation must not silently fall out of (or into) the list.
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["checks"]["positive_data_acceptance"]["enabled"] is True
    groups = config["operations"]
    kept = [op for group in groups if "positive_data_acceptance" in group["checks"] for op in group["include-operation-id"]]
    named = {op for group in groups for op in group["include-operation-id"]}
    ids = {op["operationId"] for ops in create_app().openapi()["paths"].values() for op in ops.values()}
    assert len(kept) == len(set(kept)) and named <= ids, named - ids
    assert len(ids - set(kept)) >= 15  # the operations whose validity the schema states
