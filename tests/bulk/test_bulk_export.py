"""Export writes exactly what the loader takes: export, load into an empty database, export
again, and the files are identical, for every resource and both formats."""

import csv
import io
import json

import pytest

from tests import factories
from tests.bulk import samples
from tests.bulk.helpers import CSV, NDJSON, counts, report
from tests.problems import assert_problem


async def _create_through_the_api(client) -> None:
    """The source data goes in through the ordinary endpoints, not bulk."""
    for path, records in (("/v1/clusters", samples.CLUSTERS), ("/v1/partnerships", samples.PARTNERSHIPS),
                          ("/v1/missions", samples.MISSIONS), ("/v1/agreements", samples.AGREEMENTS),
                          ("/v1/opportunities", samples.OPPORTUNITIES)):
        for record in records:
            response = await client.post(path, json=record)
            assert response.status_code == 201, response.text
    for market in samples.TARGET_MARKETS:
        profile = {k: v for k, v in market.items() if k != "country"}
        response = await client.put(f"/v1/target-markets/{market['country']}", json=profile)
        assert response.status_code == 201, response.text


async def _export(client, resource: str, format: str) -> bytes:
    response = await client.get(f"/v1/export/{resource}", headers={"Accept": CSV if format == "csv" else NDJSON})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(CSV if format == "csv" else NDJSON)
    return response.content


@pytest.mark.parametrize("format", ["ndjson", "csv"])
async def test_export_load_export_is_identical(client, empty_client, format):
    await _create_through_the_api(client)
    content_type = CSV if format == "csv" else NDJSON
    for resource, records in samples.ALL.items():
        exported = await _export(client, resource, format)
        loaded = await report(empty_client, resource, exported, content_type)
        assert counts(loaded) == (len(records), 0, 0, 0), (resource, loaded)
        assert await _export(empty_client, resource, format) == exported, resource
        # And the export loads back into its source unchanged.
        assert counts(await report(client, resource, exported, content_type)) == (0, 0, len(records), 0), resource


async def test_the_export_shape(client):
    await _create_through_the_api(client)
    lines = (await _export(client, "clusters", "ndjson")).decode().splitlines()
    first = json.loads(lines[0])
    assert list(first) == ["slug", "name", "acronym", "country", "region", "city", "website", "email", "description",
                           "sectors", "member_count", "sme_count", "label", "founded_year", "language", "target_markets"]
    assert [json.loads(line)["slug"] for line in lines] == ["litek", "opticsvalley", "si-cluster"]
    rows = list(csv.DictReader(io.StringIO((await _export(client, "partnerships", "csv")).decode())))
    assert rows[0]["members"] == "litek:partner;opticsvalley:coordinator"
    assert rows[0]["activities"] == "Missions\\; matchmaking;Back\\\\slash: and colon;Plain"
    markets = list(csv.DictReader(io.StringIO((await _export(client, "target-markets", "csv")).decode())))
    assert markets[1]["support_organisations"] == (
        "SelectUSA\\: investment:trade-promotion:https://www.selectusa.gov/welcome;AmCham\\; EU:chamber-of-commerce")
    missions = [json.loads(line) for line in (await _export(client, "missions", "ndjson")).decode().splitlines()]
    assert missions[1]["organisers"] == {"clusters": ["opticsvalley", "litek"], "partnerships": ["photonics4all"],
                                         "external": "EU Gateway | Business Avenues"}


async def test_missions_without_an_external_id_are_not_exported(client):
    mission = dict(samples.MISSIONS[1], organisers={})
    del mission["external_id"]
    assert (await client.post("/v1/missions", json=mission)).status_code == 201
    assert await _export(client, "missions", "ndjson") == b""


async def test_export_formats(client):
    assert_problem(await client.get("/v1/export/clusters", headers={"Accept": "application/xml"}), 406)
    assert (await client.get("/v1/export/clusters", headers={"Accept": "*/*"})).headers["content-type"] == NDJSON
    assert (await client.get("/v1/export/clusters", headers={"Accept": CSV})).content.startswith(b"slug,name,acronym,")


FORMULAS = {"name": '=HYPERLINK("http://evil.example","x")', "acronym": "+33 1 23", "city": "-2+3",
            "description": "@SUM(1+1)*cmd|' /C calc'!A0"}


async def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_load_back_exactly(client, empty_client):
    """Cells beginning with = + - @ are written behind a backslash; values that themselves
    begin with a backslash (before such a character or not) get one more; loading undoes both."""
    clusters = [factories.cluster(slug="formulas", **FORMULAS),
                factories.cluster(slug="backslashes", name="\\=not a formula", acronym="\\\\srv", city="\\x")]
    partnership = factories.partnership(slug="formula-lists", activities=["=1+1", "-x", "\\=y"],
                                        objectives="-objective", members=[{"cluster": "formulas"}])
    for record in clusters:
        await factories.create(client, "/v1/clusters", record)
    await factories.create(client, "/v1/partnerships", partnership)

    exported = {resource: await _export(client, resource, "csv") for resource in ("clusters", "partnerships")}
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO(exported["clusters"].decode()))}
    assert {field: rows["formulas"][field] for field in FORMULAS} == {f: "\\" + v for f, v in FORMULAS.items()}
    assert (rows["backslashes"]["name"], rows["backslashes"]["acronym"], rows["backslashes"]["city"]) == (
        "\\\\=not a formula", "\\\\\\srv", "\\\\x")
    (row,) = csv.DictReader(io.StringIO(exported["partnerships"].decode()))
    assert (row["activities"], row["objectives"]) == ("\\=1+1;-x;\\\\=y", "\\-objective")
    for line in exported["clusters"].decode().splitlines() + exported["partnerships"].decode().splitlines():
        cells = next(csv.reader([line]))
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")], line

    for resource in ("clusters", "partnerships"):  # export -> load -> export: identical bytes
        assert counts(await report(empty_client, resource, exported[resource], CSV))[0] >= 1
        assert await _export(empty_client, resource, "csv") == exported[resource], resource
    loaded = (await empty_client.get("/v1/clusters/backslashes")).json()
    assert (loaded["name"], loaded["acronym"], loaded["city"]) == ("\\=not a formula", "\\\\srv", "\\x")
    assert {f: (await empty_client.get("/v1/clusters/formulas")).json()[f] for f in FORMULAS} == FORMULAS
    assert (await empty_client.get("/v1/partnerships/formula-lists")).json()["activities"] == ["=1+1", "-x", "\\=y"]
