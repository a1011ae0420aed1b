"""Who may see and change a mission's meetings: the organiser (alpha), the participants
concerned (beta asks gamma), another participant (delta), a cluster outside (epsilon), an
unbound write key, a read key, an admin, and no key at all."""

import pytest

from tests import meetings
from tests.meetings import accepted, ask

CALLERS = ("alpha", "beta", "gamma", "delta", "epsilon", "unbound", "read", "admin", None)


def _expect(allowed: set[str], others: int, **special: int) -> list[tuple[str | None, int]]:
    cells = []
    for caller in CALLERS:
        if caller is None:
            cells.append((caller, 401))
        elif caller == "read":
            cells.append((caller, 403))
        elif caller in special:
            cells.append((caller, special[caller]))
        else:
            cells.append((caller, 200 if caller in allowed | {"unbound", "admin"} else others))
    return cells


@pytest.fixture
async def world(client, session):
    return await meetings.build(client, session)


@pytest.mark.parametrize("caller, status", _expect({"alpha"}, 404))
async def test_setting_up_sessions(app, world, caller, status):
    async with world.client(app, caller) as c:
        assert (await c.put(world.path("/meeting-setup"), json=meetings.SETUP)).status_code == status


@pytest.mark.parametrize("caller, status", _expect({"beta"}, 404))
async def test_setting_availability(app, world, caller, status):
    async with world.client(app, caller) as c:
        response = await c.put(world.path("/participants/beta/availability"), json={"sessions": ["day-1"]})
        assert response.status_code == status


@pytest.mark.parametrize("caller, status", _expect({"beta"}, 403))
async def test_asking_for_a_meeting(app, world, caller, status):
    async with world.client(app, caller) as c:
        response = await c.post(world.path("/meeting-requests"), json={"from": "beta", "to": "gamma"})
        assert response.status_code == (201 if status == 200 else status)


ANSWERS = [("accepted", cell) for cell in _expect({"gamma"}, 404, beta=403)] + [
    ("withdrawn", cell) for cell in _expect({"beta"}, 404, gamma=403)]


@pytest.mark.parametrize("answer, cell", ANSWERS)
async def test_answering_and_withdrawing(app, client, world, answer, cell):
    """The cluster asked answers, the asking cluster withdraws; the wrong side gets 403."""
    caller, status = cell
    made = await ask(client, world, "beta", "gamma")
    async with world.client(app, caller) as c:
        response = await c.patch(world.path(f"/meeting-requests/{made['id']}"), json={"status": answer})
        assert response.status_code == status


@pytest.mark.parametrize("path", ["/schedule", "/schedule/publish"])
@pytest.mark.parametrize("caller, status", _expect({"alpha"}, 404))
async def test_scheduling_and_publishing(app, client, world, path, caller, status):
    await accepted(client, world, "beta", "gamma")
    async with world.client(app, caller) as c:
        assert (await c.post(world.path(path))).status_code == status


@pytest.mark.parametrize("caller, status", _expect({"alpha"}, 404))
async def test_recording_a_meeting(app, client, world, caller, status):
    await accepted(client, world, "beta", "gamma")
    [meeting] = (await client.post(world.path("/schedule"))).json()["meetings"]
    await client.post(world.path("/schedule/publish"))
    async with world.client(app, caller) as c:
        assert (await c.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": "held"})).status_code == status


SEES_ALL = {"alpha", "unbound", "read", "admin"}


@pytest.mark.parametrize("caller", CALLERS)
async def test_reading_requests_and_meetings(app, client, world, caller):
    """Organisers and unbound keys see everything; a participant sees what concerns it."""
    made = await accepted(client, world, "beta", "gamma")
    await client.post(world.path("/schedule"))
    expected = 1 if caller in SEES_ALL | {"beta", "gamma"} else 0
    async with world.client(app, caller) as c:
        for path in ("/meeting-requests", "/meetings"):
            response = await c.get(world.path(path))
            if caller is None:
                assert response.status_code == 401
                continue
            assert len(response.json()["items"]) == expected
            # Naming someone else's cluster does not widen the view.
            assert len((await c.get(world.path(path), params={"cluster": "gamma"})).json()["items"]) == (
                1 if caller in SEES_ALL | {"beta", "gamma"} else 0)
        one = await c.get(world.path(f"/meeting-requests/{made['id']}"))
        assert one.status_code == (401 if caller is None else 200 if expected else 404)
