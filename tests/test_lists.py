"""Lists: every filter, keyset paging to the last page across sorts with ties and nulls."""

import pytest

from tests import factories
from tests.lists import collect
from tests.problems import assert_problem


@pytest.fixture
async def catalogue(client):
    """Nine clusters with repeated and missing values in every sortable field."""
    specs = [
        ("FR", 10, 2001, ["photonics"], "gold", ["US"]),
        ("FR", 10, None, ["photonics", "medtech"], "silver", ["CA"]),
        ("DE", None, 2001, ["aerospace"], "none", []),
        ("DE", 5, 1999, ["medtech"], "bronze", ["US", "JP"]),
        ("ES", 5, None, ["aerospace", "photonics"], "gold", ["JP"]),
        ("GR", None, 2010, ["photonics"], "none", ["US"]),
        ("GB", 20, 2010, ["digital-industries"], "silver", []),
        ("IT", 10, 1999, ["medtech"], "none", ["BR"]),
        ("PL", 7, 2005, ["aerospace"], "gold", ["US"]),
    ]
    created = []
    for i, (country, members, year, sectors, label, markets) in enumerate(specs):
        body = factories.cluster(
            name=f"Cluster {'AB'[i % 2]}",  # names tie on purpose
            country=country, member_count=members, founded_year=year, sectors=sectors, label=label,
            target_markets=[{"country": m} for m in markets],
        )
        created.append(await factories.create(client, "/v1/clusters", body))
    return created


@pytest.mark.parametrize("sort", ["name", "-name", "member_count", "-member_count", "founded_year", "-founded_year", "country", "-created_at"])
@pytest.mark.parametrize("limit", [1, 2, 4])
async def test_paging_visits_every_row_once_in_order(client, catalogue, sort, limit):
    items = await collect(client, "/v1/clusters", {"sort": sort, "limit": limit})
    assert sorted(i["id"] for i in items) == sorted(c["id"] for c in catalogue)
    field, descending = sort.lstrip("-"), sort.startswith("-")
    values = [i[field] for i in items]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=descending)
    assert values == present + [None] * (len(values) - len(present))  # nulls last
    for a, b in zip(items, items[1:], strict=False):
        if a[field] == b[field]:
            assert (a["id"] > b["id"]) if descending else (a["id"] < b["id"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "FR"}, lambda c: c["country"] == "FR"),
        ({"country": ["FR", "EL"]}, lambda c: c["country"] in ("FR", "GR")),
        ({"sector": "medtech"}, lambda c: "medtech" in c["sectors"]),
        ({"sector": ["medtech", "aerospace"]}, lambda c: {"medtech", "aerospace"} & set(c["sectors"])),
        ({"label": "gold"}, lambda c: c["label"] == "gold"),
        ({"target_market": "JP"}, lambda c: "JP" in [m["country"] for m in c["target_markets"]]),
        ({"target_market": ["BR", "CA"]}, lambda c: {"BR", "CA"} & {m["country"] for m in c["target_markets"]}),
        ({"country": "FR", "sector": "medtech"}, lambda c: c["country"] == "FR" and "medtech" in c["sectors"]),
    ],
)
async def test_cluster_filters(client, catalogue, params, expected):
    items = await collect(client, "/v1/clusters", params | {"limit": 3})
    assert {i["id"] for i in items} == {c["id"] for c in catalogue if expected(c)}
    assert items  # every case selects something


async def test_partnership_filter_and_text_search(client, catalogue):
    await factories.create(client, "/v1/partnerships", factories.partnership(
        slug="photonics-alliance", members=[{"cluster": catalogue[0]["slug"]}, {"cluster": catalogue[3]["slug"]}],
    ))
    members = await collect(client, "/v1/clusters", {"partnership": "photonics-alliance"})
    assert {c["id"] for c in members} == {catalogue[0]["id"], catalogue[3]["id"]}

    await factories.create(client, "/v1/clusters", factories.cluster(
        name="Clúster de Cooperación Agroalimentaria", description="Innovación en alimentación sostenible",
    ))
    for q in ("cooperacion", "Cooperación", "agroalimentaria sostenible", '"cluster de cooperacion"', "sostenibles"):
        found = (await client.get("/v1/clusters", params={"q": q})).json()["items"]
        assert [c["name"] for c in found] == ["Clúster de Cooperación Agroalimentaria"], q
    assert (await client.get("/v1/clusters", params={"q": "cooperacion -sostenible"})).json()["items"] == []


async def test_partnership_filters(client, catalogue):
    a = await factories.create(client, "/v1/partnerships", factories.partnership(
        programme="escp-s3", generation=None, strand=None, sectors=["medtech"], target_markets=[{"country": "JP"}],
        members=[{"cluster": catalogue[1]["slug"]}], objectives="Diagnostics with artificial intelligence",
    ))
    b = await factories.create(client, "/v1/partnerships", factories.partnership(
        generation=1, strand="voluntary", sectors=["aerospace"], target_markets=[{"country": "BR"}],
    ))
    cases = [
        ({"programme": "escp-s3"}, {a["id"]}),
        ({"programme": ["escp-s3", "escp-4i"]}, {a["id"], b["id"]}),
        ({"generation": 1}, {b["id"]}),
        ({"strand": "voluntary"}, {b["id"]}),
        ({"sector": "medtech"}, {a["id"]}),
        ({"target_market": "BR"}, {b["id"]}),
        ({"cluster": catalogue[1]["slug"]}, {a["id"]}),
        ({"q": "diagnostic"}, {a["id"]}),
    ]
    for params, expected in cases:
        assert {p["id"] for p in await collect(client, "/v1/partnerships", params | {"limit": 1})} == expected, params


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"sort": "password"}, "query.sort"),
        ({"cursor": "!!!"}, "query.cursor"),
        ({"cursor": "W10"}, "query.cursor"),
        ({"colour": "blue"}, "query.colour"),
        ({"country": "XX"}, "query.country.0"),
        ({"q": "a\x00b"}, "query.q"),
        ({"q": "x" * 501}, "query.q"),
        ({"country": ["FR"] * 51}, "query.country"),
    ],
)
async def test_bad_list_parameters_are_422(client, params, location):
    assert_problem(await client.get("/v1/clusters", params=params), 422, location)


async def test_a_cursor_belongs_to_its_sort(client, catalogue):
    page = (await client.get("/v1/clusters", params={"sort": "name", "limit": 2})).json()
    assert_problem(await client.get("/v1/clusters", params={"sort": "-name", "cursor": page["next_cursor"]}), 422, "query.cursor")
