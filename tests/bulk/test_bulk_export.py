"""Export writes exactly what the loader takes: export, load into an empty database, export
again, and the files are identical, for every resource and both formats."""

import csv
import io
import json

import pytest

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
                           "sectors", "member_count", "sme_count", "label", "founded_year", "target_markets"]
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
