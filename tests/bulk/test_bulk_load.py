"""Every resource loads, in both formats, with every rule of its create schema applied."""

import pytest

from tests.bulk import samples
from tests.bulk.helpers import CSV, counts, csv_file, file_of, find, load, report

FORMATS = ["ndjson", "csv"]


async def load_all(client, format: str) -> dict[str, dict]:
    reports = {}
    for resource, records in samples.ALL.items():
        body, content_type = file_of(resource, records, format)
        reports[resource] = await report(client, resource, body, content_type)
    return reports


@pytest.mark.parametrize("format", FORMATS)
async def test_every_resource_loads(client, format):
    reports = await load_all(client, format)
    for resource, records in samples.ALL.items():
        assert counts(reports[resource]) == (len(records), 0, 0, 0), reports[resource]
        assert reports[resource]["received"] == len(records) and reports[resource]["committed"]

    optics = await find(client, "clusters", "opticsvalley")
    assert optics["description"] == samples.CLUSTERS[0]["description"]
    assert optics["region"] == {"code": "FR10", "name": "Île-de-France", "nuts_version": "2021"}
    assert optics["target_markets"] == [{"country": "US", "priority": 1}, {"country": "CA", "priority": None}]
    greek = await find(client, "clusters", "si-cluster")
    assert greek["country"] == "GR" and greek["target_markets"] == [{"country": "GB", "priority": 2}]

    partnership = await find(client, "partnerships", "photonics4all")
    assert {(m["cluster"]["slug"], m["role"]) for m in partnership["members"]} == {
        ("opticsvalley", "coordinator"), ("litek", "partner")}
    assert partnership["activities"] == samples.PARTNERSHIPS[0]["activities"]
    assert (await find(client, "partnerships", "space-bridge"))["strand"] == "free: text"

    us = await find(client, "target-markets", "US")
    assert us["profile"]["support_organisations"] == samples.TARGET_MARKETS[0]["support_organisations"]
    assert us["profile"]["market_size"] == "Large;\nvery large"
    assert (await find(client, "target-markets", "GB"))["profile"]["trends"] == "Brexit"

    boston = await find(client, "missions", "m-boston-2030")
    assert [c["slug"] for c in boston["organisers"]["clusters"]] == ["opticsvalley", "litek"]
    assert [p["slug"] for p in boston["organisers"]["partnerships"]] == ["photonics4all"]
    assert boston["organisers"]["external"] == "EU Gateway | Business Avenues"
    assert (boston["start_time"], boston["timezone"], boston["cost_reimbursement_percent"]) == ("09:00:00", "America/New_York", 62.5)
    assert boston["outcomes"]["bilateral_meetings"] == 80 and boston["sequence"] == 0
    athens = await find(client, "missions", "m-athens")
    assert (athens["destination_country"], athens["ends_on"], athens["status"]) == ("GR", "2030-09-01", "cancelled")

    mou = await find(client, "agreements", "a-boston-mou")
    assert [c["slug"] for c in mou["clusters"]] == ["opticsvalley", "litek"]
    assert mou["partnership"]["slug"] == "photonics4all" and mou["mission"]["external_id"] == "m-boston-2030"
    assert mou["counterparts"][0] == {"name": "Photonics: Boston; MA", "country": "US", "kind": "cluster"}
    assert (await find(client, "agreements", "a-draft"))["status"] == "draft"


async def test_a_handwritten_csv_of_clusters_and_partnerships(client):
    clusters = (
        b"slug,name,country,region.code,sectors,target_markets,label\r\n"
        b"opticsvalley,Optics Valley,FR,FR10,photonics;electronics,US:1;CA,gold\r\n"
        b"litek,LITEK,DE,,,,\r\n"
    )
    assert counts(await report(client, "clusters", clusters, CSV)) == (2, 0, 0, 0)
    optics = await find(client, "clusters", "opticsvalley")
    assert optics["sectors"] == ["photonics", "electronics"] and optics["label"] == "gold"
    assert optics["region"]["nuts_version"] == "2021"  # the schema's default
    assert optics["target_markets"] == [{"country": "US", "priority": 1}, {"country": "CA", "priority": None}]
    assert (await find(client, "clusters", "litek"))["sectors"] == []

    partnerships = csv_file(["slug", "acronym", "name", "programme", "members"],
                            ["duo", "DUO", "Duo", "other", "opticsvalley:coordinator;litek:partner"])
    assert counts(await report(client, "partnerships", partnerships, CSV)) == (1, 0, 0, 0)
    duo = await find(client, "partnerships", "duo")
    assert [(m["cluster"]["slug"], m["role"]) for m in sorted(duo["members"], key=lambda m: m["role"])] == [
        ("opticsvalley", "coordinator"), ("litek", "partner")]


@pytest.mark.parametrize("format", FORMATS)
async def test_gzip_bodies(client, format):
    body, content_type = file_of("clusters", samples.CLUSTERS, format)
    assert counts(await report(client, "clusters", body, content_type, gzip=True)) == (3, 0, 0, 0)
    assert counts(await report(client, "clusters", body, content_type, gzip=True)) == (0, 0, 3, 0)


async def test_the_api_rules_hold(client):
    """Rules of the create schema and of the service: the same refusals as POST /v1/clusters."""
    rows = [
        {"slug": "ok", "name": "OK", "country": "FR"},
        {"slug": "bad-region", "name": "X", "country": "FR", "region": {"code": "DE11"}},
        {"slug": "bad-sector", "name": "X", "country": "FR", "sectors": ["no-such-sector"]},
        {"slug": "bad-country", "name": "X", "country": "XX"},
        {"slug": "too-many-smes", "name": "X", "country": "FR", "member_count": 1, "sme_count": 2},
        {"slug": "Not A Slug", "name": "X", "country": "FR"},
        {"slug": "unknown-field", "name": "X", "country": "FR", "colour": "blue"},
    ]
    from tests.bulk.helpers import ndjson

    body = (await load(client, "clusters", ndjson(*rows), mode="partial")).json()
    assert counts(body) == (1, 0, 0, 6)
    by_line = {e["line"]: e for e in body["errors"]}
    assert by_line[2]["message"] == "region DE11 is not a NUTS region of FR"
    assert by_line[3] == {"line": 3, "field": "sectors", "message": "unknown sector code(s): no-such-sector; see /v1/sectors"}
    assert by_line[4]["field"] == "country"
    assert "sme_count cannot exceed member_count" in by_line[5]["message"]
    assert by_line[6]["field"] == "slug"
    assert by_line[7] == {"line": 7, "field": "colour", "message": "Extra inputs are not permitted"}


async def test_missions_and_agreements_need_an_external_id(client):
    from tests import factories
    from tests.bulk.helpers import ndjson

    mission = factories.mission()
    del mission["external_id"]
    body = (await load(client, "missions", ndjson(mission), mode="partial")).json()
    assert counts(body) == (0, 0, 0, 1)
    assert body["errors"][0]["field"] == "external_id"
    assert "required in bulk loads" in body["errors"][0]["message"]
    mission = factories.mission(starts_on="2030-06-10", ends_on="2030-06-01")
    body = (await load(client, "missions", ndjson(mission), mode="partial")).json()
    assert body["errors"][0]["message"] == "ends_on must not be before starts_on"
