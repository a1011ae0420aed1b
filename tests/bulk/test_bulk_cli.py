"""`partnerships load` and `partnerships export` against a real `partnerships serve` process,
as a newcomer runs them; and an upload cut off mid-body at the socket."""

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.bulk.resources import RESOURCES
from service.cli import RESOURCE_NAMES
from service.migrate import upgrade
from tests.bulk.helpers import ndjson
from tests.conftest import create_scratch_database, drop_database
from tests.ops.conftest import admin_key_in
from tests.test_cli import CLI, _env, _free_port

CLUSTERS_CSV = (
    "slug,name,country,region.code,sectors,target_markets\n"
    "opticsvalley,Optics Valley,FR,FR10,photonics;electronics,US:1;CA\n"
    "litek,LITEK,DE,,photonics,\n"
    "si-cluster,Corallia SI-Cluster,EL,EL30,space,US\n"
)


@pytest.fixture(scope="module")
async def service(server_url):
    """A `partnerships serve` process on a migrated scratch database of its own."""
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    await upgrade(engine)
    port = _free_port()
    process = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=_env(url), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).parent)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.3)
    os.environ["PARTNERSHIPS_API_KEY"] = await admin_key_in(url)  # for the `load` commands below
    try:
        yield base, engine
    finally:
        os.environ.pop("PARTNERSHIPS_API_KEY", None)
        process.terminate()
        process.communicate(timeout=30)
        await engine.dispose()
        await drop_database(server_url, url)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


async def test_load_a_csv_of_clusters_and_see_the_report(service, tmp_path):
    base, engine = service
    clusters = tmp_path / "clusters.csv"
    clusters.write_text(CLUSTERS_CSV, encoding="utf-8")

    first = _run("load", str(clusters), "--resource", "clusters", "--api", base)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == "clusters: 3 received, 3 created, 0 updated, 0 unchanged, 0 rejected (committed)"
    again = _run("load", str(clusters), "-r", "clusters", "--api", base, "--gzip")
    assert "0 created, 0 updated, 3 unchanged" in again.stdout and again.returncode == 0

    bad = tmp_path / "more.csv"
    bad.write_text(CLUSTERS_CSV.replace("litek,LITEK,DE", "litek,LITEK Renamed,DE") + "atlantis,Atlantis,XX,,,\n")
    strict = _run("load", str(bad), "-r", "clusters", "--api", base)
    assert strict.returncode == 1
    assert "1 updated, 2 unchanged, 1 rejected (nothing committed)" in strict.stdout
    assert "  line 5, country: 'XX' is not an ISO 3166-1 alpha-2 country code" in strict.stdout
    partial = _run("load", str(bad), "-r", "clusters", "--api", base, "--mode", "partial")
    assert partial.returncode == 0 and "1 updated, 2 unchanged, 1 rejected (committed)" in partial.stdout

    exported = _run("export", "clusters", "--format", "csv", "--api", base)
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0].startswith("slug,name,acronym,country,region.code") and len(lines) == 4
    assert "LITEK Renamed" in exported.stdout
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT version FROM clusters WHERE slug = 'litek'")) == 2


async def test_cli_errors(service, tmp_path):
    base, _ = service
    unknown = tmp_path / "clusters.txt"
    unknown.write_text("x")
    assert _run("load", str(unknown), "-r", "clusters", "--api", base).returncode == 2
    header = tmp_path / "clusters.csv"
    header.write_text("slug,colour\n")
    refused = _run("load", str(header), "-r", "clusters", "--api", base)
    assert refused.returncode == 2 and "unknown column 'colour'" in refused.stderr
    assert _run("load", str(header), "-r", "planets", "--api", base).returncode == 2
    nobody = _run("load", str(header), "-r", "clusters", "--api", f"http://127.0.0.1:{_free_port()}")
    assert nobody.returncode == 2 and "cannot reach the service" in nobody.stderr


async def test_an_upload_cut_off_at_the_socket_commits_nothing(service):
    base, engine = service
    port = int(base.rsplit(":", 1)[1])
    rows = ndjson(*({"slug": f"cut-{i}", "name": f"Cut {i}", "country": "FR"} for i in range(20_000)))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /v1/bulk/clusters?mode=partial HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-ndjson\r\n"
            + f"Authorization: Bearer {os.environ['PARTNERSHIPS_API_KEY']}\r\nContent-Length: {len(rows)}\r\n\r\n".encode()
        )
        sock.sendall(rows[: len(rows) * 3 // 4])  # more than a batch: rows reach the staging table
        time.sleep(0.5)
    time.sleep(1.0)  # the server sees the connection go and rolls back
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM clusters WHERE slug LIKE 'cut-%'")) == 0
    # The service is fine and the whole file loads.
    headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {os.environ['PARTNERSHIPS_API_KEY']}"}
    response = httpx.post(f"{base}/v1/bulk/clusters", content=rows, headers=headers, timeout=60)
    assert response.status_code == 200 and response.json()["created"] == 20_000


def test_the_cli_knows_every_resource():
    assert RESOURCE_NAMES == tuple(RESOURCES)
