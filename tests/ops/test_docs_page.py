"""The docs page works with no network: a real browser renders every operation from what the
service alone serves."""

import asyncio
import json
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from tests.ops.conftest import ServeProcess, url_text

pytestmark = pytest.mark.slow

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"
# Every host name but the service's own address fails to resolve, so a page that needs a
# CDN stays blank here even on a machine that is online.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    message = "no chromium binary (apt-get install chromium) to render /docs with"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
async def served(tmp_path, live_database):
    process = ServeProcess({"DATABASE_URL": url_text(live_database)}, tmp_path / "serve.log")
    try:
        await process.wait_ready()
        yield process
    finally:
        process.stop()


async def render(browser: str, url: str, profile: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", OFFLINE,
        # Virtual time runs the page's scripts (and its fetch of /openapi.json) to the end.
        "--virtual-time-budget=10000", "--dump-dom", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        dom, errors = await asyncio.wait_for(process.communicate(), timeout=90)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, errors.decode(errors="replace")[-2000:]
    return dom.decode()


async def test_docs_page_renders_every_operation_offline(served, tmp_path):
    browser = chromium()
    dom = await render(browser, f"{served.base_url}/docs", tmp_path / "profile")
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    operations = [(method, path) for path, ops in document["paths"].items() for method in ops]
    rendered = re.findall(r'class="opblock opblock-(\w+)[^"]*".*?data-path="([^"]+)"', dom)
    assert sorted(rendered) == sorted(operations)
    assert "Partnership Opportunity API" in dom


async def test_docs_page_loads_nothing_from_elsewhere(served):
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        page = (await client.get("/docs")).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)
        assert sources and all(source.startswith("/") for source in sources), sources
        for source in sources:
            assert (await client.get(source)).status_code == 200, source
        assert (await client.get("/redoc")).status_code == 404  # it would need a CDN too


async def test_head_over_a_real_server_gives_the_get_headers(served):
    async with httpx.AsyncClient(base_url=served.base_url, headers={"Accept-Encoding": "identity"}) as client:
        get = await client.get("/openapi.json")
        head = await client.head("/openapi.json")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
