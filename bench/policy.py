"""Benchmark: evaluate every stage of 10,000 fictional visits across the five schools.

Prints visits per second and the cost of policy evaluation per visit as a ratio
to validating the same visit with pydantic, both measured in this run (the
machines are shared and noisy, so only the ratio is compared to the target).

    .venv/bin/python bench/policy.py [--visits N] [--rounds R]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta

from hv_connector.clock import LONDON
from hv_connector.models import Visit
from hv_connector.plugins import Policies, build_plugin_manager
from hv_connector.testing import base_visit, staff

TARGET_RATIO = 3.0


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
        people = [staff(f"s{i}a", "Alex Visitor", rng.choice(["pastoral", "pflo", "teacher"]))]
        if rng.random() < 0.7:
            people.append(staff(f"s{i}b", "Sam Second", rng.choice(["dsl", "slt", "line-manager"])))
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


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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
    evaluate(visits[0], now)  # warm the per-school caches

    validation, evaluation, findings = [], [], 0
    for _ in range(args.rounds):  # interleaved, best of N: noise from other tenants only adds time
        validation.append(timed(lambda: [Visit.model_validate(d) for d in raw]))
        evaluation.append(timed(lambda: [evaluate(v, now) for v in visits]))
    findings = sum(len(evaluate(v, now)) for v in visits)
    best_validate, best_eval = min(validation), min(evaluation)
    ratio = best_eval / best_validate

    print(f"schools: {', '.join(policies.schools())}")
    print(f"visits: {len(visits)}, stages: 6, findings: {findings}")
    print(f"validation (baseline): {len(visits) / best_validate:,.0f} visits/s ({best_validate * 1e6 / len(visits):.1f} µs/visit)")
    print(f"policy evaluation: {len(visits) / best_eval:,.0f} visits/s ({best_eval * 1e6 / len(visits):.1f} µs/visit)")
    print(f"policy_visits_per_second: {len(visits) / best_eval:,.0f} (target: none, for the record)")
    print(f"policy_cost_vs_validation: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x)")


if __name__ == "__main__":
    main()
