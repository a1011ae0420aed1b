"""Valid request bodies, overridable field by field."""

import itertools

_numbers = itertools.count(1)


def cluster(**fields) -> dict:
    n = next(_numbers)
    body = {
        "slug": f"cluster-{n}",
        "name": f"Test Cluster {n}",
        "acronym": f"TC{n}",
        "country": "FR",
        "sectors": ["photonics"],
        "target_markets": [{"country": "US", "priority": 1}],
    }
    return body | fields


def partnership(**fields) -> dict:
    n = next(_numbers)
    body = {
        "slug": f"partnership-{n}",
        "acronym": f"P{n}",
        "name": f"Test Partnership {n}",
        "programme": "escp-4i",
        "generation": 2,
        "strand": "strand-1",
        "sectors": ["photonics"],
        "target_markets": [{"country": "US"}],
    }
    return body | fields


async def create(client, path: str, body: dict) -> dict:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def mission(**fields) -> dict:
    n = next(_numbers)
    body = {
        "external_id": f"mission-{n}",
        "title": f"Photonics mission {n}",
        "kind": "business-mission",
        "destination_country": "US",
        "destination_city": "Boston",
        "starts_on": "2030-06-10",
        "ends_on": "2030-06-14",
        "applications_open_on": "2030-03-01",
        "application_deadline": "2030-04-30",
        "sectors": ["photonics"],
    }
    return body | fields


def agreement(**fields) -> dict:
    n = next(_numbers)
    body = {
        "external_id": f"agreement-{n}",
        "title": f"Memorandum of understanding {n}",
        "kind": "mou",
        "status": "signed",
        "signed_on": "2029-11-15",
        "counterparts": [{"name": "Dubai South", "country": "AE", "kind": "agency"}],
        "sectors": ["aerospace"],
    }
    return body | fields


def opportunity(**fields) -> dict:
    n = next(_numbers)
    body = {
        "external_id": f"opportunity-{n}",
        "kind": "partner-search",
        "title": f"Looking for partners {n}",
        "summary": "A cluster looks for partners abroad.",
        "countries": ["US"],
        "sectors": ["photonics"],
        "posted_by": {"organisation": {"name": "European Cluster Collaboration Platform"}},
        "deadline": "2030-03-31",
    }
    return body | fields
