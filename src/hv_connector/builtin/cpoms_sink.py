"""The built-in ``cpoms-api`` report sink: visit reports to CPOMS over our proposed HTTP contract.

No school can use it yet (CPOMS publishes no API; see ../shared/apis/cpoms.md §0): it waits for the day a
partner agreement exists, with the loopback fake CPOMS as its test double. Registered through the
``report_sinks`` hook (by :mod:`hv_connector.builtin.extensions`) like any other sink and chosen with
``name = "cpoms-api"`` under ``[schools.ID.sink]``. The CPOMS client's errors are this sink's own; they
subclass the core's generic sink errors, and a lost answer becomes a
:class:`~hv_connector.errors.SinkOutcomeUnknown`. Mapping policy categories to CPOMS's ids belongs here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hv_connector.clients.cpoms.client import CpomsClient
from hv_connector.clients.cpoms.errors import CpomsRejected, CpomsUnavailable
from hv_connector.clients.cpoms.payloads import (
    HomeVisitBlock,
    IncidentAction,
    IncidentRequest,
    PresentPerson,
    Source,
    StaffRef,
    StudentRef,
)
from hv_connector.config.messages import setting_fix
from hv_connector.config.settings import ApiUrl, SchoolSettings, Settings
from hv_connector.errors import ConfigError, SinkOutcomeUnknown
from hv_connector.outbox.report import Person, VisitReport
from hv_connector.outbox.sinks import Delivery, sink_options

T = TypeVar("T")


class CpomsApiSettings(BaseModel):
    """``[schools.ID.sink]`` with ``name = "cpoms-api"``: one school's CPOMS connection."""

    model_config = ConfigDict(extra="forbid")

    base_url: ApiUrl
    """The school's CPOMS API root, e.g. ``https://oakhill.cpoms.example/api/v1``."""
    token: SecretStr | None = None
    """The school's CPOMS API token (each school has its own)."""
    category_map: dict[str, str | int] = {}
    """Policy category name → this school's CPOMS category name or id, where they differ."""
    requests_per_second: float | None = Field(default=None, gt=0)
    """Stay under this request rate for the school's token (``None``: no client-side limit)."""


def _staff(people: tuple[Person, ...] | list[Person]) -> list[StaffRef]:
    return [StaffRef(email=p.email) for p in people if p.email]


def incident_request(report: VisitReport, category_ids: list[int]) -> IncidentRequest:
    """The ``POST /incidents`` body for ``report`` (categories already mapped to the school's ids)."""
    home_visit = None
    if report.kind != "concern":
        home_visit = HomeVisitBlock(
            visit_type=report.visit_type,
            visitors=_staff(report.visitors),
            outcome=report.outcome,
            persons_present=[PresentPerson(name=p.name, relationship=p.role) for p in report.persons_present],
            home_conditions=report.home_conditions,
            voice_of_child=report.child_words,
            concerns=report.concerns,
            next_steps="\n".join(a.text for a in report.actions),
            follow_up_on=report.follow_up_on,
        )
    return IncidentRequest(
        kind="concern" if report.kind == "concern" else "home_visit",
        # CPOMS matches a UPN first, and a reference naming both fails when either does not match: send the
        # MIS's own id (never the MIS feed's record id) only when there is no UPN. Name and date of birth
        # are in the description, for a person matching by hand.
        student=StudentRef(upn=report.upn) if report.upn else StudentRef(mis_id=report.mis_id),
        category_ids=category_ids,
        occurred_at=report.occurred_at,
        location="Family home",
        description=report.description,
        reported_by=StaffRef(email=report.reported_by.email) if report.reported_by and report.reported_by.email else None,
        alert_staff=[StaffRef(email=e) for e in report.alert_emails],
        actions=[IncidentAction(text=a.text) for a in report.actions],
        home_visit=home_visit,
        source=Source(record_id=report.record_id, revision=report.revision),
    )


class CpomsSink:
    """One school's CPOMS as a :class:`~hv_connector.outbox.queue.ReportSink`.

    :param client: the school's (not yet opened) :class:`CpomsClient`.
    :param category_map: policy category name → the school's CPOMS category name or id, for schools
        whose CPOMS names differ from their policy plugin's.
    """

    def __init__(self, client: CpomsClient, category_map: Mapping[str, str | int] | None = None) -> None:
        self.client = client
        self.category_map = dict(category_map or {})
        self._ids: dict[tuple[str, ...], list[int]] = {}

    async def __aenter__(self) -> CpomsSink:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.__aexit__(*exc)

    @property
    def requests_per_second(self) -> float | None:
        """The school's token's rate (the push keeps rate × latency records in flight: :mod:`hv_connector.outbox.pacing`)."""
        return self.client.requests_per_second

    @property
    def latency(self) -> float | None:
        """Seconds this school's CPOMS took to answer lately."""
        return self.client.latency

    async def category_ids(self, names: tuple[str, ...]) -> list[int]:
        """The school's CPOMS ids for the policy's category names: mapped in config (to a name or an id), else by name.

        Worked out once per set of names per push (the categories are fetched once per push too).
        """
        known = self._ids.get(names)
        if known is not None:
            return known
        mapped = [self.category_map.get(name, name) for name in names]
        by_name = iter(await self.client.category_ids([m for m in mapped if isinstance(m, str)]))
        ids = [m if isinstance(m, int) else next(by_name) for m in mapped]
        self._ids[names] = list(dict.fromkeys(ids))
        return self._ids[names]

    @staticmethod
    async def _answer(call: Awaitable[T]) -> T:
        """``call``'s answer; a lost one (CPOMS may have stored the record) as the core's SinkOutcomeUnknown."""
        try:
            return await call
        except CpomsUnavailable as exc:
            if exc.outcome_unknown:
                raise SinkOutcomeUnknown(str(exc), exc.retry_after) from exc
            raise

    async def find(self, report: VisitReport) -> Delivery | None:
        found = await self._answer(self.client.find_incident(report.record_id, report.revision))
        return None if found is None else Delivery(str(found.id), already_there=True, status=found.status)

    async def submit(self, report: VisitReport, idempotency_key: str) -> Delivery:
        if not (report.upn or report.mis_id):
            raise CpomsRejected(
                f"the report for {report.pupil_name} has neither a UPN nor an MIS id, and CPOMS never matches "
                "on name alone: sync the pupil from the MIS (`hvc sync`), then `hvc outbox retry ID`",
                [{"field": "student", "issue": "student_not_identified"}],
            )
        request = incident_request(report, await self.category_ids(report.categories))
        result = await self._answer(self.client.create_incident(request, idempotency_key))
        return Delivery(str(result.id), already_there=result.replayed, status=result.status, doubt=result.doubt)


def cpoms_api_sink(settings: Settings, school: SchoolSettings) -> CpomsSink:
    """Build a school's sink from its ``[schools.ID.sink]`` settings (``base_url``, ``token``, …)."""
    cpoms = sink_options(CpomsApiSettings, school)
    if cpoms.token is None or not cpoms.token.get_secret_value():
        raise ConfigError(f"school {school.id!r} has no CPOMS token: "
                          f"{setting_fix(['schools', school.id, 'sink', 'token'])}")
    client = CpomsClient(cpoms.base_url, cpoms.token, school_id=school.id,
                         token_setting=f"`token` under [schools.{school.id}.sink]",
                         per_second=cpoms.requests_per_second)
    return CpomsSink(client, cpoms.category_map)
