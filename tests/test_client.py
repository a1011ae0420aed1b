"""A TypeScript client generated from the committed OpenAPI document type-checks a program
that uses it, under `tsc --strict` (tests/client/: pinned openapi-typescript and typescript).

node_modules stays in tests/client/ (ignored by git) between runs; `npm ci` runs again only
when package-lock.json is newer than it.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLIENT = Path(__file__).parent / "client"
DOCUMENT = Path(__file__).parent.parent / "openapi" / "openapi.json"


def unavailable(message: str) -> None:
    # In CI the check runs wherever npm is there to run it; elsewhere it is skipped.
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=CLIENT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the generated TypeScript client is not checked")
    installed = CLIENT / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (CLIENT / "package-lock.json").stat().st_mtime:
        result = run(npm, "ci", "--no-audit", "--no-fund")
        if result.returncode != 0:
            unavailable(f"npm ci failed (is the npm registry reachable?):\n{result.stderr[-2000:]}")
    return CLIENT / "node_modules"


def test_generated_typescript_client_type_checks_under_strict(node_modules):
    generated = CLIENT / "generated" / "api.d.ts"
    generate = run(str(node_modules / ".bin" / "openapi-typescript"), str(DOCUMENT), "-o", str(generated))
    assert generate.returncode == 0, generate.stdout + generate.stderr
    check = run(str(node_modules / ".bin" / "tsc"), "-p", "tsconfig.json", "--strict")
    assert check.returncode == 0, check.stdout + check.stderr
