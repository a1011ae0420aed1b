"""Cooperation agreements."""

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.lists import collect
from tests.problems import assert_problem


async def test_agreement_with_parties_partnership_and_mission(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership())
    mission = await factories.create(client, "/v1/missions", factories.mission(external_id="dubai-airshow"))
    body = factories.agreement(clusters=[cluster["slug"]], partnership=partnership["slug"], mission="dubai-airshow")
    response = await client.post("/v1/agreements", json=body)
    assert response.status_code == 201, response.text
    agreement = response.json()
    assert [c["slug"] for c in agreement["clusters"]] == [cluster["slug"]]
    assert agreement["partnership"]["slug"] == partnership["slug"]
    assert agreement["mission"]["id"] == mission["id"]
    assert agreement["counterparts"] == [{"name": "Dubai South", "country": "AE", "kind": "agency"}]
    # references keep their targets
    assert_problem(await client.delete(f"/v1/missions/{mission['id']}"), 409)
    assert_problem(await client.delete(f"/v1/clusters/{cluster['id']}"), 409)
    assert_problem(await client.delete(f"/v1/partnerships/{partnership['id']}"), 409)
    assert (await client.delete(f"/v1/agreements/{agreement['id']}")).status_code == 204
    assert (await client.delete(f"/v1/missions/{mission['id']}")).status_code == 204


async def test_an_agreement_names_its_mission_by_id_as_well_as_by_external_id(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    mission = await factories.create(client, "/v1/missions", factories.mission())
    body = factories.agreement(clusters=[cluster["slug"]], mission=mission["id"])
    response = await client.post("/v1/agreements", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["mission"]["id"] == mission["id"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"kind": "handshake"}, "body.kind"),
        ({"status": "expired"}, "body.status"),
        ({"signed_on": "2030-01-01", "valid_until": "2029-01-01"}, "body"),
        ({"counterparts": [{"name": "X", "country": "ZZ"}]}, "body.counterparts.0.country"),
        ({"counterparts": [{"name": "X", "country": "US", "kind": "friend"}]}, "body.counterparts.0.kind"),
        ({"clusters": ["nobody"]}, "body.clusters.0"),
        ({"partnership": "nobody"}, "body.partnership"),
        ({"mission": "no-such-mission"}, "body.mission"),
        ({"document_url": "javascript:alert(1)"}, "body.document_url"),
    ],
)
async def test_bad_agreements_are_422(client, fields, location):
    assert_problem(await client.post("/v1/agreements", json=factories.agreement(**fields)), 422, location)


async def test_expired_is_derived_from_valid_until(client, clock):
    agreement = await factories.create(client, "/v1/agreements", factories.agreement(signed_on="2029-01-01", valid_until="2030-12-31"))
    assert agreement["status"] == "signed"
    clock.at = datetime(2031, 1, 1, tzinfo=UTC)
    assert (await client.get(f"/v1/agreements/{agreement['id']}")).json()["status"] == "expired"
    assert [a["id"] for a in await collect(client, "/v1/agreements", {"status": "expired"})] == [agreement["id"]]
    assert await collect(client, "/v1/agreements", {"status": "signed"}) == []
    # an expired agreement can be edited without restating its status
    renewed = await client.patch(f"/v1/agreements/{agreement['id']}", json={"valid_until": "2035-12-31"})
    assert renewed.json()["status"] == "signed"


async def test_agreement_filters(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership())
    a = await factories.create(client, "/v1/agreements", factories.agreement(
        kind="cooperation-agreement", signed_on="2017-11-15", clusters=[cluster["slug"]],
        counterparts=[{"name": "MassMEDIC", "country": "US", "kind": "cluster"}], title="HealthTech and MassMEDIC",
    ))
    b = await factories.create(client, "/v1/agreements", factories.agreement(
        status="negotiating", signed_on=None, partnership=partnership["slug"], description="Cooperación con Colombia",
        counterparts=[{"name": "Cámara de Comercio", "country": "CO", "kind": "chamber-of-commerce"}],
    ))
    c = await factories.create(client, "/v1/agreements", factories.agreement(signed_on="2019-03-01"))
    cases = [
        ({"kind": "cooperation-agreement"}, [a]),
        ({"status": "negotiating"}, [b]),
        ({"country": "US"}, [a]),
        ({"country": ["CO", "AE"]}, [c, b]),
        ({"cluster": cluster["slug"]}, [a]),
        ({"partnership": partnership["slug"]}, [b]),
        ({"signed_after": "2018-01-01"}, [c]),
        ({"signed_before": "2018-01-01"}, [a]),
        ({"q": "cooperacion"}, [b]),
        ({}, [c, a, b]),  # newest signed first, unsigned last
        ({"sort": "signed_on"}, [a, c, b]),
    ]
    for params, expected in cases:
        got = await collect(client, "/v1/agreements", params | {"limit": 2})
        assert [x["id"] for x in got] == [x["id"] for x in expected], params


async def test_target_markets_count_missions_and_agreements(client):
    await factories.create(client, "/v1/missions", factories.mission(destination_country="TW"))
    await factories.create(client, "/v1/missions", factories.mission(destination_country="TW"))
    await factories.create(client, "/v1/agreements", factories.agreement(counterparts=[
        {"name": "ITRI", "country": "TW", "kind": "agency"}, {"name": "TAITRA", "country": "TW", "kind": "agency"},
    ]))
    taiwan = (await client.get("/v1/target-markets/TW")).json()
    assert (taiwan["mission_count"], taiwan["agreement_count"], taiwan["cluster_count"]) == (2, 1, 0)
    ranked = (await client.get("/v1/target-markets", params={"sort": "-mission_count", "limit": 1})).json()["items"]
    assert ranked[0]["country"] == "TW"
