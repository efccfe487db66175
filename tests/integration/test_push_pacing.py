"""How many records a push keeps in flight per school: its sink's rate × its receiver's latency, not a fixed number."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from hv_connector.outbox.push import Pusher
from hv_connector.outbox.queue import enqueue_visit_report
from hv_connector.outbox.report import VisitReport
from hv_connector.outbox.sinks import Delivery
from hv_connector.store import Store
from tests.cpomskit import AnswersAtOnce, demo_visit, kit_policies

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


class InFlight:
    """Records in flight now, and the most there were at once."""

    def __init__(self) -> None:
        self.now = self.most = 0


class Receiver(AnswersAtOnce):
    """A school's sink that says how fast it may go and how slowly it answers, and counts records in flight."""

    def __init__(self, requests_per_second: float | None, latency: float | None,
                 counted: InFlight | None = None) -> None:
        self.requests_per_second, self.latency = requests_per_second, latency
        self.counted = counted or InFlight()
        self.received: list[str] = []

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        self.counted.now += 1
        self.counted.most = max(self.counted.most, self.counted.now)
        for _ in range(3):  # the answer comes back later: the push starts others meanwhile
            await asyncio.sleep(0)
        self.counted.now -= 1
        self.received.append(report.record_id)
        return Delivery(str(len(self.received)))


def queued(store: Store, schools: tuple[str, ...], per_school: int) -> None:
    policies = kit_policies(*schools)
    with store.begin() as conn:
        for n in range(per_school):
            for school in schools:
                visit = demo_visit(None, school, 0, visit_id=f"{school}-{n}", school=school)
                enqueue_visit_report(conn, policies, visit, "home-visit", now=NOW, actor="t1")


@pytest.mark.parametrize(("rate", "latency", "in_flight"), [
    (20.0, 0.2, 9),    # a real receiver: 20/s × 0.2 s = 4 answers in flight, doubled, plus the next one
    (20.0, 0.02, 2),   # a fast one: the next request ready while one is answered
    (20.0, None, 11),  # not measured yet: a real receiver's 0.25 s assumed
    (None, None, 8),   # no rate to pace against (a folder on disk)
])
def test_each_school_keeps_its_rate_times_its_latency_in_flight(
    store: Store, rate: float | None, latency: float | None, in_flight: int,
) -> None:
    queued(store, ("oak", "elm"), 30)
    receivers = {school: Receiver(rate, latency) for school in ("oak", "elm")}
    summary = asyncio.run(Pusher(store, receivers.__getitem__, now=lambda: NOW).run())
    assert summary.count("sent") == 60
    assert [r.counted.most for r in receivers.values()] == [in_flight, in_flight]
    assert receivers["oak"].received == [f"oak-{n}" for n in range(30)]  # each school's oldest first


def test_concurrency_caps_the_records_in_flight_over_all_schools(store: Store) -> None:
    queued(store, ("oak", "elm"), 10)
    both = InFlight()
    receivers = {school: Receiver(20.0, 0.2, both) for school in ("oak", "elm")}
    summary = asyncio.run(Pusher(store, receivers.__getitem__, now=lambda: NOW, concurrency=3).run())
    assert (summary.count("sent"), both.most) == (20, 3)
