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
