"""Opportunities to save searches of, and saving one."""

import pytest

from tests import factories

PATH = "/v1/saved-searches"


@pytest.fixture
async def world(client):
    """A cluster, a partnership and a handful of opportunities and a mission, on 2030-01-15."""
    cluster = await factories.create(client, "/v1/clusters", factories.cluster(slug="photon-valley"))
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership(slug="laser-go"))
    bodies = {
        "call": dict(kind="call", title="Call for photonics pilots", countries=["US", "CA"], deadline="2030-02-01"),
        "request": dict(kind="cooperation-request", title="Cooperación aeronáutica", countries=["CO"], sectors=["aerospace"],
                        posted_by={"cluster": cluster["slug"]}),
        "search": dict(title="Medical lasers partner search", sectors=["photonics", "medtech"], deadline=None,
                       posted_by={"partnership": partnership["slug"]}),
        "offer": dict(kind="cooperation-offer", title="Packaging testing offer", countries=["JP"], sectors=["packaging"],
                      deadline="2030-03-01"),
        "closed": dict(kind="call", title="Closed photonics call", deadline="2030-01-01"),
        "withdrawn": dict(kind="event", title="Withdrawn photonics event", withdrawn=True),
    }
    found = {name: await factories.create(client, "/v1/opportunities", factories.opportunity(**body)) for name, body in bodies.items()}
    found["mission"] = await factories.create(client, "/v1/missions", factories.mission(
        title="Photonics mission to Boston", applications_open_on="2030-01-01",
    ))
    return found


async def save(client, query: dict, name: str = "Photonics in the US") -> dict:
    return await factories.create(client, PATH, {"name": name, "query": query})
