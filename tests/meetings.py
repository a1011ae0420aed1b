"""A mission with meeting sessions, its participants and their keys, for the meeting tests.

alpha organises; beta, gamma and delta take part; epsilon exists but does not take part.
"""

import asyncio
import threading
from dataclasses import dataclass

from service.meetings import scheduler
from tests import factories
from tests.conftest import issue_key, make_client

PARTICIPANTS = ("beta", "gamma", "delta")
SETUP = {
    "meeting_minutes": 30,
    "tables": 2,
    "sessions": [
        {"name": "day-1", "starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T10:30"},  # 3 slots
        {"name": "day-2", "starts_at": "2030-06-12T14:00", "ends_at": "2030-06-12T15:00"},  # 2 slots
    ],
}


@dataclass
class World:
    mission: str
    keys: dict[str, str]

    def path(self, tail: str = "") -> str:
        return f"/v1/missions/{self.mission}{tail}"

    def client(self, app, who: str):
        return make_client(app, self.keys.get(who))


async def build(client, session, *, setup: bool = True) -> World:
    for slug in ("alpha", *PARTICIPANTS, "epsilon"):
        await factories.create(client, "/v1/clusters", factories.cluster(slug=slug, name=slug.title()))
    mission = await factories.create(client, "/v1/missions", factories.mission(
        organisers={"clusters": ["alpha"]}, kind="matchmaking-event", timezone="Europe/Berlin",
        start_time="09:00", end_time="18:00"))
    world = World(mission["id"], {})
    for slug in PARTICIPANTS:
        await factories.create(client, world.path("/participants"), {"cluster": slug})
    world.keys = {
        "admin": await issue_key(session, "admin"),
        "unbound": await issue_key(session, "write"),
        "read": await issue_key(session, "read"),
        **{slug: await issue_key(session, "write", slug) for slug in ("alpha", *PARTICIPANTS, "epsilon")},
    }
    if setup:
        response = await client.put(world.path("/meeting-setup"), json=SETUP)
        assert response.status_code == 200, response.text
    return world


async def ask(client, world: World, asking: str, asked: str, message: str | None = "Let's talk") -> dict:
    response = await client.post(world.path("/meeting-requests"), json={"from": asking, "to": asked, "message": message})
    assert response.status_code == 201, response.text
    return response.json()


async def answer(client, world: World, request_id: str, status: str) -> dict:
    response = await client.patch(world.path(f"/meeting-requests/{request_id}"), json={"status": status})
    assert response.status_code == 200, response.text
    return response.json()


async def accepted(client, world: World, asking: str, asked: str) -> dict:
    made = await ask(client, world, asking, asked)
    return await answer(client, world, made["id"], "accepted")


class HeldSolver:
    """scheduler.schedule, its first call held until released (the others run at once)."""

    def __init__(self, monkeypatch):
        self.real = scheduler.schedule
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0
        monkeypatch.setattr(scheduler, "schedule", self)

    def __call__(self, problem, **options):
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(30)
        return self.real(problem, **options)

    async def searching(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 30)
