"""The bilateral-meeting scheduler: accepted meeting requests to (slot, table).

Rules: a cluster has at most one meeting per slot, a slot holds at most as many meetings as
there are tables, and both parties are available in the slot. Goal: as many meetings as
possible. Meetings already published stay where they are (unless the caller frees them).

Tables are interchangeable, so the solver only chooses slots; tables are numbered within each
slot afterwards (published meetings keep theirs). Slot choice is an integer program solved
with OR-Tools CP-SAT, started from a greedy schedule so a good answer exists from the first
moment; the solver's own bound is reported beside the result, so the gap is measured, not
claimed. Pure computation: no database, no I/O.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

# OR-Tools is imported where it is used: loading it costs a process about 65 MB, which every
# API process would carry from its start though few ever schedule a mission.

Party = Hashable
Slot = int


@dataclass(frozen=True)
class Request:
    id: Hashable
    a: Party
    b: Party


@dataclass(frozen=True)
class Placed:
    slot: Slot
    table: int


@dataclass(frozen=True)
class Problem:
    slots: tuple[Slot, ...]
    tables: int
    requests: tuple[Request, ...]
    available: dict[Party, frozenset[Slot]]  # a party missing here is available in every slot
    published: dict[Hashable, Placed] = field(default_factory=dict)  # request id -> kept place

    def free_slots(self, party: Party) -> frozenset[Slot]:
        return self.available.get(party, frozenset(self.slots))

    def common_slots(self, request: Request) -> frozenset[Slot]:
        return self.free_slots(request.a) & self.free_slots(request.b) & frozenset(self.slots)


@dataclass
class Schedule:
    placed: dict[Hashable, Placed]
    unplaced: dict[Hashable, str]  # request id -> why it could not be placed
    upper_bound: int  # no schedule of this problem places more meetings
    optimal: bool
    seconds: float

    @property
    def gap(self) -> float:
        """Share of the upper bound not reached (0 when optimal)."""
        return 0.0 if self.upper_bound == 0 else 1 - len(self.placed) / self.upper_bound


def _greedy(problem: Problem, fixed: dict[Hashable, Slot]) -> dict[Hashable, Slot]:
    """A first schedule: the most constrained requests first, each in its least busy common slot."""
    busy: set[tuple[Party, Slot]] = set()
    load: dict[Slot, int] = defaultdict(int)
    chosen = dict(fixed)
    for request in problem.requests:
        if request.id in fixed:
            slot = fixed[request.id]
            busy |= {(request.a, slot), (request.b, slot)}
            load[slot] += 1
    pending = sorted((r for r in problem.requests if r.id not in fixed), key=lambda r: len(problem.common_slots(r)))
    for request in pending:
        options = [s for s in problem.common_slots(request)
                   if (request.a, s) not in busy and (request.b, s) not in busy and load[s] < problem.tables]
        if options:
            slot = min(options, key=lambda s: (load[s], s))
            chosen[request.id] = slot
            busy |= {(request.a, slot), (request.b, slot)}
            load[slot] += 1
    return chosen


def upper_bound(problem: Problem) -> int:
    """A bound no schedule can beat, cheap to compute: the least of the requests that have a
    common slot at all, the tables of every slot (at most half of the parties free in it),
    and the fractional b-matching below."""
    placeable = [r for r in problem.requests if r.id in problem.published or problem.common_slots(r)]
    parties = {p for r in placeable for p in (r.a, r.b)}
    free_in = {s: sum(s in problem.free_slots(p) for p in parties) for s in problem.slots}
    tables = sum(min(problem.tables, free_in[s] // 2) for s in problem.slots)
    return min(len(placeable), tables, _fractional_b_matching(problem, placeable))


def _fractional_b_matching(problem: Problem, placeable: list[Request]) -> int:
    """Meetings possible if each party only had to stay within its number of free slots (and
    each request were met at most once): a maximum flow on the double cover of the request
    graph, halved. Slot consistency is ignored, so it bounds every real schedule from above."""
    from ortools.graph.python import max_flow

    flow = max_flow.SimpleMaxFlow()
    index: dict[Party, int] = {}
    for r in placeable:
        for p in (r.a, r.b):
            index.setdefault(p, len(index))
    n = len(index)
    source, sink = 2 * n, 2 * n + 1
    all_slots = frozenset(problem.slots)
    for party, i in index.items():
        capacity = len(problem.free_slots(party) & all_slots)
        flow.add_arc_with_capacity(source, i, capacity)
        flow.add_arc_with_capacity(n + i, sink, capacity)
    for r in placeable:
        a, b = index[r.a], index[r.b]
        flow.add_arc_with_capacity(a, n + b, 1)
        flow.add_arc_with_capacity(b, n + a, 1)
    if flow.solve(source, sink) != flow.OPTIMAL:
        return len(placeable)
    return int(flow.optimal_flow()) // 2


def _model(problem: Problem, fixed: dict[Hashable, Slot], hint: dict[Hashable, Slot]) -> tuple[
    cp_model.CpModel, dict[tuple[Hashable, Slot], cp_model.IntVar]
]:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x: dict[tuple[Hashable, Slot], cp_model.IntVar] = {}
    by_party_slot: dict[tuple[Party, Slot], list[cp_model.IntVar]] = defaultdict(list)
    by_slot: dict[Slot, list[cp_model.IntVar]] = defaultdict(list)
    for request in problem.requests:
        slots = [fixed[request.id]] if request.id in fixed else sorted(problem.common_slots(request))
        choices = []
        for slot in slots:
            var = model.new_bool_var(f"r{len(x)}")
            x[request.id, slot] = var
            choices.append(var)
            by_party_slot[request.a, slot].append(var)
            by_party_slot[request.b, slot].append(var)
            by_slot[slot].append(var)
            model.add_hint(var, hint.get(request.id) == slot)
        if request.id in fixed:
            model.add(choices[0] == 1)
        elif len(choices) > 1:
            model.add_at_most_one(choices)
    for group in by_party_slot.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for group in by_slot.values():
        if len(group) > problem.tables:
            model.add(sum(group) <= problem.tables)
    model.maximize(sum(x.values()))
    return model, x


def _tables(problem: Problem, slots: dict[Hashable, Slot]) -> dict[Hashable, Placed]:
    """Number the tables of each slot: published meetings keep theirs, the others take the
    lowest free ones (in request order, so the same schedule numbers tables the same way)."""
    taken: dict[Slot, set[int]] = defaultdict(set)
    placed: dict[Hashable, Placed] = {}
    for request_id, slot in slots.items():
        kept = problem.published.get(request_id)
        if kept is not None and kept.slot == slot:
            placed[request_id] = kept
            taken[slot].add(kept.table)
    for request in problem.requests:
        chosen = slots.get(request.id)
        if chosen is None or request.id in placed:
            continue
        slot = chosen
        table = next(t for t in range(1, problem.tables + 1) if t not in taken[slot])
        taken[slot].add(table)
        placed[request.id] = Placed(slot, table)
    return placed


def _reasons(problem: Problem, placed: dict[Hashable, Placed]) -> dict[Hashable, str]:
    """Why each request left out could not be placed, in terms of the final schedule."""
    busy: set[tuple[Party, Slot]] = set()
    load: dict[Slot, int] = defaultdict(int)
    for request in problem.requests:
        if (place := placed.get(request.id)) is not None:
            busy |= {(request.a, place.slot), (request.b, place.slot)}
            load[place.slot] += 1
    reasons = {}
    for request in problem.requests:
        if request.id in placed:
            continue
        common = problem.common_slots(request)
        if not common:
            reasons[request.id] = "the two clusters share no session they are both available in"
            continue
        a_busy = sum((request.a, s) in busy for s in common)
        b_busy = sum((request.b, s) in busy for s in common)
        full = sum(load[s] >= problem.tables for s in common)
        reasons[request.id] = (
            f"each of the {len(common)} slot(s) both are available in is taken: {a_busy} by another meeting "
            f"of the first cluster, {b_busy} of the second, {full} with every table in use"
        )
    return reasons


def _conflicts(problem: Problem) -> str | None:
    """Why the published meetings cannot all stay, if they cannot."""
    seen: set[tuple[Party, Slot]] = set()
    tables: set[tuple[Slot, int]] = set()
    by_id = {r.id: r for r in problem.requests}
    for request_id, place in problem.published.items():
        request = by_id.get(request_id)
        if request is None:
            continue
        for key in ((request.a, place.slot), (request.b, place.slot)):
            if key in seen:
                return f"published meetings overlap: {key[0]} has two in slot {place.slot}"
            seen.add(key)
        if (place.slot, place.table) in tables or not 1 <= place.table <= problem.tables:
            return f"published meetings overlap: table {place.table} of slot {place.slot}"
        tables.add((place.slot, place.table))
    return None


class Infeasible(ValueError):
    """The meetings to keep break the rules themselves (two at once for a cluster, ...)."""


def schedule(problem: Problem, *, time_limit: float = 20.0, workers: int = 2) -> Schedule:
    """The best schedule found within time_limit seconds, with an upper bound on any schedule."""
    if (conflict := _conflicts(problem)) is not None:
        raise Infeasible(conflict)
    requests = {r.id for r in problem.requests}
    fixed = {rid: p.slot for rid, p in problem.published.items() if rid in requests}
    started = time.perf_counter()
    bound = upper_bound(problem)
    slots = _greedy(problem, fixed)
    if len(slots) < bound:  # the greedy schedule may not be the best: ask the solver
        slots, bound = _solve(problem, fixed, slots, bound, time_limit, workers)
    placed = _tables(problem, slots)
    unplaced = _reasons(problem, placed)
    return Schedule(placed, unplaced, bound, len(placed) == bound, time.perf_counter() - started)


def _solve(
    problem: Problem, fixed: dict[Hashable, Slot], hint: dict[Hashable, Slot], bound: int, time_limit: float,
    workers: int,
) -> tuple[dict[Hashable, Slot], int]:
    """CP-SAT from the greedy schedule; its slots and the tighter of the two bounds."""
    model, x = _model(problem, fixed, hint)
    model.add(sum(x.values()) <= bound)
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint, bound  # no answer in time: the greedy schedule is valid
    slots = {rid: slot for (rid, slot), var in x.items() if solver.boolean_value(var)}
    if len(slots) < len(hint):
        slots = hint
    return slots, min(bound, int(solver.best_objective_bound))


def violations(problem: Problem, placed: dict[Hashable, Placed]) -> list[str]:
    """Every rule a schedule breaks (none, for a schedule this module made): checked anew,
    independently of how the schedule was made."""
    found: list[str] = []
    by_id = {r.id: r for r in problem.requests}
    parties: set[tuple[Party, Slot]] = set()
    tables: set[tuple[Slot, int]] = set()
    for request_id, place in placed.items():
        request = by_id[request_id]
        if place.slot not in problem.slots:
            found.append(f"{request_id}: slot {place.slot} is not a slot of the event")
        if not 1 <= place.table <= problem.tables:
            found.append(f"{request_id}: table {place.table} does not exist")
        for party in (request.a, request.b):
            if place.slot not in problem.free_slots(party):
                found.append(f"{request_id}: {party} is not available in slot {place.slot}")
            if (party, place.slot) in parties:
                found.append(f"{request_id}: {party} has two meetings in slot {place.slot}")
            parties.add((party, place.slot))
        if (place.slot, place.table) in tables:
            found.append(f"{request_id}: table {place.table} of slot {place.slot} is used twice")
        tables.add((place.slot, place.table))
    for request_id, kept in problem.published.items():
        if request_id in by_id and placed.get(request_id) != kept:
            found.append(f"{request_id}: a published meeting moved")
    return found


def requests_of(pairs: Iterable[tuple[Hashable, Party, Party]]) -> tuple[Request, ...]:
    return tuple(Request(rid, a, b) for rid, a, b in pairs)
