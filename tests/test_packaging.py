"""The package as the Docker image installs it: built from the files the Dockerfile copies,
its dependencies from pyproject.toml without the embedded PostgreSQL, into a fresh virtual
environment. Docker itself is not needed: what the image runs is this environment.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import create_scratch_database, drop_database
from tests.ops.conftest import free_port, url_text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def image_env(tmp_path_factory):
    """(wheel, venv): the wheel built from a copy of what the Dockerfile copies, and a venv
    holding the dependencies (as the image's cached layer does) and then that wheel."""
    root = tmp_path_factory.mktemp("image")
    source = root / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    # A copy: a build in the checkout would reuse its build/ folder, stale files included.
    shutil.copytree(ROOT / "service", source / "service", ignore=shutil.ignore_patterns("__pycache__"))
    venv = root / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    pip = (str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q")
    run(*pip, "install", *PYPROJECT["project"]["dependencies"])
    run(*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(source))
    (wheel,) = (root / "dist").glob("*.whl")
    run(*pip, "install", "--no-deps", str(wheel))
    return wheel, venv


def installed_env(venv: Path, **variables) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PYTHONPATH")}
    return {**environment, "PATH": f"{venv / 'bin'}:{environment.get('PATH', '')}", "LOG__FORMAT": "text", **variables}


def test_the_wheel_holds_the_service_package_alone(image_env):
    wheel, _ = image_env
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/", 1)[0] for name in archive.namelist()}
        assert {name for name in top_level if not name.endswith(".dist-info")} == {"service"}
        names = set(archive.namelist())
    # What the migrations need beside their code travels with them.
    assert "service/migrations/script.py.mako" in names
    assert "service/migrations/data/0001_sectors.json" in names
    assert any(name.startswith("service/demo/data/") for name in names)


def test_the_image_environment_has_no_embedded_postgresql(image_env):
    _, venv = image_env
    probe = "import importlib.util as u; print(u.find_spec('pgserver') is None, u.find_spec('migrations') is None)"
    assert run(str(venv / "bin" / "python"), "-c", probe, cwd=venv).stdout.split() == ["True", "True"]


def test_without_a_database_url_it_says_what_to_do(image_env, tmp_path):
    _, venv = image_env
    result = subprocess.run(
        [str(venv / "bin" / "partnerships"), "migrate"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env=installed_env(venv, EMBEDDED__DATA_DIR=str(tmp_path / "pgdata")),
    )
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr and "[embedded]" in result.stderr
    assert "Traceback" not in result.stderr


def healthcheck_command() -> list[str]:
    match = re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[[^\n]*\])$", DOCKERFILE, re.M)
    assert match, "the Dockerfile has no HEALTHCHECK ... CMD [...]"
    return json.loads(match.group(1))


def test_the_dockerfile_caches_dependencies_and_leaves_out_the_embedded_database():
    assert DOCKERFILE.index("COPY pyproject.toml") < DOCKERFILE.index("pip install -r") < DOCKERFILE.index("COPY service")
    assert "pgserver" not in DOCKERFILE and "[embedded]" not in DOCKERFILE
    assert f"ARG VERSION={PYPROJECT['project']['version']}" in DOCKERFILE


async def test_the_installed_service_migrates_serves_the_demo_and_is_ready(image_env, server_url, tmp_path):
    _, venv = image_env
    url = await create_scratch_database(server_url)
    port = free_port()
    env = installed_env(venv, DATABASE_URL=url_text(url), SERVER__PORT=str(port))
    serve = None
    try:
        run(str(venv / "bin" / "partnerships"), "migrate", cwd=tmp_path, env=env)
        with open(tmp_path / "serve.log", "wb") as log:
            serve = subprocess.Popen(
                [str(venv / "bin" / "partnerships"), "serve", "--demo"], cwd=tmp_path, env=env,
                stdout=log, stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(600):
                assert serve.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("not ready within 60 s:\n" + (tmp_path / "serve.log").read_text())
            french = (await client.get("/v1/clusters", params={"country": "FR"})).json()["items"]
            assert "opticsvalley" in {cluster["slug"] for cluster in french}
            assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 200
        # The image's HEALTHCHECK, run as Docker would inside the container.
        healthcheck = subprocess.run(healthcheck_command(), env=env, cwd=tmp_path, timeout=30, capture_output=True)
        assert healthcheck.returncode == 0, healthcheck.stderr
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(timeout=30)
        await drop_database(server_url, url)
