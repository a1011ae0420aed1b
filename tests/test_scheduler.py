"""The meeting scheduler: every schedule re-checked against the rules, optimality on events
small enough to try every schedule, published meetings kept, and why a request was left out."""

import itertools
import random

import pytest

from service.meetings.scheduler import Infeasible, Placed, Problem, Request, schedule, upper_bound, violations


def _random_event(seed: int, parties: int, requests: int, slots: int, tables: int) -> Problem:
    rng = random.Random(seed)
    available = {p: frozenset(s for s in range(slots) if rng.random() < 0.7) for p in range(parties)}
    pairs = set()
    while len(pairs) < requests:
        a, b = rng.sample(range(parties), 2)
        pairs.add((min(a, b), max(a, b)))
    return Problem(tuple(range(slots)), tables, tuple(Request(i, a, b) for i, (a, b) in enumerate(sorted(pairs))), available)


def _best_by_trying_everything(problem: Problem) -> int:
    best = 0
    choices = [(None, *sorted(problem.common_slots(r))) for r in problem.requests]
    for option in itertools.product(*choices):
        busy, load, ok = set(), {}, True
        for request, slot in zip(problem.requests, option, strict=True):
            if slot is None:
                continue
            if (request.a, slot) in busy or (request.b, slot) in busy or load.get(slot, 0) >= problem.tables:
                ok = False
                break
            busy |= {(request.a, slot), (request.b, slot)}
            load[slot] = load.get(slot, 0) + 1
        if ok:
            best = max(best, sum(s is not None for s in option))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_small_events_get_the_best_schedule_there_is(seed):
    problem = _random_event(seed, parties=5, requests=7, slots=3, tables=2)
    result = schedule(problem, time_limit=5)
    assert violations(problem, result.placed) == []
    best = _best_by_trying_everything(problem)
    assert len(result.placed) == best
    assert upper_bound(problem) >= best
    assert set(result.placed) | set(result.unplaced) == {r.id for r in problem.requests}


@pytest.mark.parametrize("seed", range(5))
def test_larger_events_break_no_rule_and_stay_within_the_bound(seed):
    problem = _random_event(seed, parties=60, requests=400, slots=8, tables=12)
    result = schedule(problem, time_limit=5)
    assert violations(problem, result.placed) == []
    assert len(result.placed) <= result.upper_bound
    assert len(result.placed) >= 0.95 * result.upper_bound


def test_violations_names_each_broken_rule():
    problem = Problem((0, 1), 1, (Request("x", "A", "B"), Request("y", "A", "C"), Request("z", "D", "E")),
                      {"B": frozenset({1})})
    found = violations(problem, {"x": Placed(0, 1), "y": Placed(0, 1), "z": Placed(5, 2)})
    assert any("B is not available in slot 0" in v for v in found)
    assert any("A has two meetings in slot 0" in v for v in found)
    assert any("table 1 of slot 0 is used twice" in v for v in found)
    assert any("slot 5 is not a slot" in v for v in found)
    assert any("table 2 does not exist" in v for v in found)


def test_a_rerun_keeps_published_meetings_where_they_are():
    problem = _random_event(3, parties=20, requests=60, slots=6, tables=5)
    first = schedule(problem, time_limit=5)
    published = dict(list(first.placed.items())[:20])
    again = schedule(Problem(problem.slots, problem.tables, problem.requests, problem.available, published), time_limit=5)
    assert all(again.placed[rid] == place for rid, place in published.items())
    assert violations(Problem(problem.slots, problem.tables, problem.requests, problem.available, published),
                      again.placed) == []


def test_published_meetings_that_overlap_are_refused():
    requests = (Request("x", "A", "B"), Request("y", "A", "C"))
    with pytest.raises(Infeasible, match="A has two"):
        schedule(Problem((0, 1), 2, requests, {}, {"x": Placed(0, 1), "y": Placed(0, 2)}))


def test_each_request_left_out_says_why():
    requests = (Request("apart", "A", "B"), Request("first", "C", "D"), Request("second", "C", "E"))
    problem = Problem((0,), 5, requests, {"A": frozenset({0}), "B": frozenset()})
    result = schedule(problem)
    assert result.unplaced["apart"] == "the two clusters share no session they are both available in"
    left_out = "second" if "first" in result.placed else "first"
    assert "1 by another meeting of the first cluster" in result.unplaced[left_out]
    assert len(result.placed) == 1 == result.upper_bound and result.optimal


def test_full_tables_are_given_as_the_reason():
    requests = tuple(Request(i, f"a{i}", f"b{i}") for i in range(3))
    result = schedule(Problem((0,), 2, requests, {}))
    assert len(result.placed) == 2
    [reason] = result.unplaced.values()
    assert "1 with every table in use" in reason
    assert sorted(p.table for p in result.placed.values()) == [1, 2]
