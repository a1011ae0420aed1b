"""Meeting scheduler benchmark: an event the size of the larger matchmaking events.

    .venv/bin/python -m tests.perf.scheduler                  # 1,000 participants, 5,000 requests
    .venv/bin/python -m tests.perf.scheduler --seed 7 --time-limit 25

The event: 1,000 participants, 5,000 accepted meeting requests between random pairs (some
participants far more sought after than others), 2 days of 16 slots, 100 tables; each
participant misses a random block of 0-8 consecutive slots and, for one in five, a whole
day. It prints the scheduler's wall time, meetings placed, the upper bound (the solver's
proven bound: no schedule places more), the share of it reached, and re-checks every rule on
the schedule. Targets: under 30 s, at least 98% of the upper bound.
"""

import argparse
import random
import time

from service.meetings.scheduler import Problem, Request, schedule, violations


def event(seed: int, participants: int = 1000, requests: int = 5000, days: int = 2, per_day: int = 16,
          tables: int = 100) -> Problem:
    rng = random.Random(seed)
    slots = tuple(range(days * per_day))
    available = {}
    for p in range(participants):
        free = set(slots)
        gap = rng.randint(0, 8)
        start = rng.randrange(len(slots))
        free -= set(range(start, start + gap))
        if rng.random() < 0.2:
            day = rng.randrange(days)
            free -= set(range(day * per_day, (day + 1) * per_day))
        available[p] = frozenset(free)
    weights = [rng.paretovariate(2.0) for _ in range(participants)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < requests:
        a, b = rng.choices(range(participants), weights=weights, k=2)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    return Problem(slots, tables, tuple(Request(i, a, b) for i, (a, b) in enumerate(sorted(pairs))), available)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tables", type=int, default=100,
                        help="Tables (100: the slots' capacity, 3,200, binds; 200 leaves room so the clusters' own "
                        "calendars bind)")
    parser.add_argument("--time-limit", type=float, default=20.0, help="The solver's time limit (seconds).")
    args = parser.parse_args()
    problem = event(args.seed, tables=args.tables)
    started = time.perf_counter()
    result = schedule(problem, time_limit=args.time_limit)
    seconds = time.perf_counter() - started
    broken = violations(problem, result.placed)
    reached = len(result.placed) / result.upper_bound if result.upper_bound else 1.0
    print(f"requests {len(problem.requests)}, slots {len(problem.slots)}, tables {problem.tables}")
    print(f"time {seconds:.1f} s (target < 30 s): {'met' if seconds < 30 else 'NOT met'}")
    print(f"placed {len(result.placed)}, upper bound {result.upper_bound}{' (optimal)' if result.optimal else ''}")
    print(f"reached {reached:.2%} of the bound (target >= 98%): {'met' if reached >= 0.98 else 'NOT met'}")
    print(f"rules broken: {len(broken)}")
    if broken:
        raise SystemExit("\n".join(broken[:20]))


if __name__ == "__main__":
    main()
