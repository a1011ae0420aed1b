"""Saved searches remember the languages their text is stemmed in, so their results and
their alerts agree with the search whoever asks later."""

import uuid

from service.saved_searches import index_query
from tests import factories
from tests.lists import collect
from tests.saved_searches.conftest import PATH


async def test_saved_languages_drive_results_and_alerts(client, session, clock):
    german = await factories.create(client, "/v1/opportunities", factories.opportunity(
        title="Neue Partnerschaft für Wasserstofftechnik", summary="Ein Cluster aus Bayern sucht eine Partnerschaft.",
    ))
    body = {"name": "Partnerschaften", "query": {"q": "Partnerschaften"}}
    in_italian = await client.post(PATH, json=body, headers={"Accept-Language": "it"})
    in_german = await client.post(PATH, json=body, headers={"Accept-Language": "de-AT"})
    assert in_italian.json()["query"]["lang"] == ["it"] and in_german.json()["query"]["lang"] == ["de"]

    lookup = await index_query.lookup(session, uuid.UUID(german["id"]), clock.today())
    assert uuid.UUID(in_german.json()["id"]) in lookup.matched
    assert uuid.UUID(in_italian.json()["id"]) not in lookup.matched
    for saved, expected in ((in_german.json(), [german["id"]]), (in_italian.json(), [])):
        # Asked without Accept-Language: the saved languages still apply.
        results = await collect(client, f"{PATH}/{saved['id']}/results", {})
        assert [r["id"] for r in results] == expected
