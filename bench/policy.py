"""Benchmark: evaluate every stage of 10,000 fictional visits across the five schools.

Prints visits per second and the cost of policy evaluation per visit as a ratio
to validating the same visit with pydantic, both measured in this run (the
machines are shared and noisy, so only the ratio is compared to the target).

Both sides are timed on the same footing, with the cyclic garbage collector off
(``gc.collect(); gc.disable()`` before each timed side, on again after). With
it on, validation pays for the collections its own allocations set off, and
each of them walks every object the bench holds (10,000 raw dicts and visits):
about three quarters of the baseline, growing with the bench's heap, not with
the work, so the ratio flattered the policy side by 2-3x. ``gc.freeze()`` after
a warm-up would still charge each side for collections that scan what it keeps
alive; off, each side is charged for its own work and nothing else. Each side
is timed in CPU time (``time.process_time``): time spent waiting for one of the
shared cores is not the work either. Rounds alternate the two sides, and the
median of each is compared.

Staff names are drawn from a pool, so findings that name people vary as they
do in a school (the rule book shares a finding only between identical answers).

    .venv/bin/python bench/policy.py [--visits N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from hv_connector.clock import LONDON
from hv_connector.models import Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.testing import base_visit, staff

TARGET_RATIO = 1.5
FIRST_NAMES = ("Alex", "Sam", "Jo", "Priya", "Tomasz", "Amara", "Niamh", "Kwame", "Ffion", "Yusuf", "Maya", "Oisin")
LAST_NAMES = ("Visitor", "Second", "Okafor", "Nowak", "Hughes", "Begum", "Reilly", "Mensah", "Price", "Shah")


def fictional_visits(policies: Policies, count: int, seed: int = 7) -> list[dict]:
    """``count`` visit dicts spread over every installed school, with varied facts."""
    rng = random.Random(seed)
    schools = policies.schools()
    day0 = datetime(2026, 9, 7, 8, 0, tzinfo=LONDON)
    out = []
    for i in range(count):
        school = schools[i % len(schools)]
        reasons = [r.code for r in policies.reasons(school)]
        start = day0 + timedelta(days=rng.randrange(120), minutes=rng.randrange(0, 11 * 60, 15))
        people = [staff(f"s{i}a", fictional_name(rng), rng.choice(["pastoral", "pflo", "teacher"]))]
        if rng.random() < 0.7:
            people.append(staff(f"s{i}b", fictional_name(rng), rng.choice(["dsl", "slt", "line-manager"])))
        data = base_visit(school, reason=rng.choice(reasons), start=start, staff=people,
                          safeguarding=rng.random() < 0.2, emergency=rng.random() < 0.1,
                          parents_informed=rng.random() < 0.8,
                          family={"concerns": rng.random() < 0.3,
                                  "information": rng.choice(["full", "some", "little-or-none"])})
        if rng.random() < 0.6:  # signed out, so the during and return rules have something to judge
            data["signed_out_at"] = (start - timedelta(minutes=10)).isoformat()
            data["check_ins"] = [{"at": (start + timedelta(minutes=m)).isoformat(), "kind": kind}
                                 for m, kind in ((0, "arrived"), (10, "office-call"))[: rng.randrange(3)]]
            data["risk_assessment"]["contact_interval_minutes"] = rng.choice([None, 20, 30])
        if "signed_out_at" in data and rng.random() < 0.7:
            data["returned_at"] = (start + timedelta(minutes=55)).isoformat()
            data["outcome"] = {"arrived_at": start.isoformat(), "child_seen": rng.random() < 0.8,
                               "discussion": "Talked through the morning routine.", "cp_concern": rng.random() < 0.05,
                               "concerns": "Noted." if rng.random() < 0.5 else ""}
        out.append(data)
    return out


def fictional_name(rng: random.Random) -> str:
    """A fictional member of staff's name, one of 120."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def timed(fn: Callable[[], object]) -> float:
    """CPU seconds ``fn`` takes with the cyclic garbage collector off (see the module docstring)."""
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        fn()
        return time.process_time() - start
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    policies = Policies(build_plugin_manager())
    raw = fictional_visits(policies, args.visits)
    visits = [Visit.model_validate(d) for d in raw]
    now = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
    evaluate = policies.all_findings
    findings = sum(len(evaluate(v, now)) for v in visits)  # a warm-up: every school's caches are filled

    validation, evaluation = [], []
    for _ in range(args.rounds):  # interleaved, so load from other tenants falls on both sides alike
        validation.append(timed(lambda: [Visit.model_validate(d) for d in raw]))
        evaluation.append(timed(lambda: [evaluate(v, now) for v in visits]))
    validate, policy = statistics.median(validation), statistics.median(evaluation)
    ratio = policy / validate

    print(f"schools: {', '.join(policies.schools())}")
    print(f"visits: {len(visits)}, stages: 6, findings: {findings}, rounds: {args.rounds} (median, GC off, CPU time)")
    print(f"validation (baseline): {len(visits) / validate:,.0f} visits/s ({validate * 1e6 / len(visits):.1f} µs/visit)")
    print(f"policy evaluation: {len(visits) / policy:,.0f} visits/s ({policy * 1e6 / len(visits):.1f} µs/visit)")
    print(f"policy_visits_per_second: {len(visits) / policy:,.0f} (target: none, for the record)")
    print(f"policy_cost_vs_validation: {ratio:.2f}× (target ≤ {TARGET_RATIO}×)")


if __name__ == "__main__":
    main()
