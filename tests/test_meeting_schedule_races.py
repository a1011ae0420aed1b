"""A schedule is written only from the inputs it was made from: a change while the solver
searches (a request answered, a meeting published, another run) makes the run answer 409
and write nothing."""

import asyncio

import pytest
from sqlalchemy import text

from tests import meetings
from tests.meetings import HeldSolver, accepted, ask
from tests.problems import assert_problem


@pytest.fixture
async def world(client, session):
    return await meetings.build(client, session)


async def _meeting_events(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM events WHERE type LIKE 'meeting.%'"))


async def test_a_request_answered_during_the_search_makes_the_run_answer_409(client, session, world, monkeypatch):
    await accepted(client, world, "beta", "gamma")
    late = await ask(client, world, "beta", "delta")
    solver = HeldSolver(monkeypatch)
    run = asyncio.create_task(client.post(world.path("/schedule")))
    await solver.searching()
    answered = await client.patch(world.path(f"/meeting-requests/{late['id']}"), json={"status": "accepted"})
    assert answered.status_code == 200
    solver.release.set()
    problem = assert_problem(await run, 409)
    assert "schedule again" in problem["detail"]
    assert (await client.get(world.path("/meetings"))).json()["items"] == [] and await _meeting_events(session) == 0
    # Run again, it places both.
    assert (await client.post(world.path("/schedule"))).json()["scheduled"] == 2


async def test_of_two_concurrent_runs_only_the_first_to_write_does(client, session, world, monkeypatch):
    await accepted(client, world, "beta", "gamma")
    solver = HeldSolver(monkeypatch)
    first = asyncio.create_task(client.post(world.path("/schedule")))
    await solver.searching()
    second = await client.post(world.path("/schedule"))
    assert second.status_code == 200 and second.json()["scheduled"] == 1
    solver.release.set()
    assert_problem(await first, 409)
    listed = (await client.get(world.path("/meetings"))).json()["items"]
    assert [m["id"] for m in listed] == [m["id"] for m in second.json()["meetings"]]
    assert await _meeting_events(session) == 1


async def test_publishing_during_the_search_makes_the_run_answer_409(client, world, monkeypatch):
    await accepted(client, world, "beta", "gamma")
    assert (await client.post(world.path("/schedule"))).status_code == 200
    solver = HeldSolver(monkeypatch)
    run = asyncio.create_task(client.post(world.path("/schedule"), json={"reschedule": "all"}))
    await solver.searching()
    assert (await client.post(world.path("/schedule/publish"))).json() == {"published": 1}
    solver.release.set()
    assert_problem(await run, 409)
    assert [m["status"] for m in (await client.get(world.path("/meetings"))).json()["items"]] == ["published"]
