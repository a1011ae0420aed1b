"""Every list states the sort orders it takes as an enum, and takes exactly those."""

import pytest

from service.calendar import repository as calendar_sources
from service.clusters import repository as clusters
from service.interests import repository as interests
from service.kit.pagination import sort_tokens
from tests import factories
from tests.documented import document
from tests.problems import assert_problem


def sort_enums() -> dict[str, list[str]]:
    found = {}
    for path, operations in document()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            choices = parameter["schema"].get("anyOf", [{}])[0]
            if parameter["name"] == "sort" and ("enum" in choices or "const" in choices):
                found[path] = choices.get("enum") or [choices["const"]]
    return found


def test_sort_enums_come_from_the_field_table():
    enums = sort_enums()
    assert enums["/v1/clusters"] == list(sort_tokens(clusters.SORTS))
    assert enums["/v1/calendar-sources"] == list(sort_tokens(calendar_sources.SORTS))
    assert enums["/v1/opportunities/{opportunity}/interests"] == list(sort_tokens(interests.SORTS))
    assert "-partnership_count" in enums["/v1/target-markets"]
    assert enums["/v1/clusters/{cluster}/matches"] == ["-score"]  # matches are ranked best first only
    lists = {p for p, ops in document()["paths"].items() if "get" in ops and "{" not in p.rsplit("/", 1)[-1]}
    assert {"/v1/clusters", "/v1/partnerships", "/v1/sectors", "/v1/missions", "/v1/agreements", "/v1/target-markets",
            "/v1/opportunities", "/v1/calendar-sources"} <= set(enums) <= lists


@pytest.mark.parametrize("path", sorted(sort_enums()))
async def test_every_documented_sort_is_served_and_no_other(client, path):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    opportunity = await factories.create(client, "/v1/opportunities", factories.opportunity())
    url = path.replace("{cluster}", cluster["slug"]).replace("{opportunity}", opportunity["id"])
    for token in sort_enums()[path]:
        params = {"sort": token} | ({"q": "photonics"} if token == "relevance" else {})
        response = await client.get(url, params=params)
        assert response.status_code == 200, (token, response.text)
    assert_problem(await client.get(url, params={"sort": "nonsense"}), 422, "query.sort")
