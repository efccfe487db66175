"""A visit's audit log as a person reads it: one sentence per entry, who did what, when and why.

``hvc audit show`` prints these. Each entry's ``detail`` is what the code that
wrote it knew (see :func:`hv_connector.store.audit.append`); a sentence names
people from the school's directory, the pupil by name, times on the London
wall clock and flags as yes or no. An action this module does not know yet
still reads as a sentence: its facts follow as ``name: value``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from hv_connector import humanize
from hv_connector.store.audit import AuditEntry
from hv_connector.store.rows import AWAITING_ENTRY, FOUND, MAY_BE_TWICE, WHERE, confirmed_as

EVENT_WORDS = {
    "checkin-reminder": "check-in reminder", "checkin-missed": "missed check-in",
    "overdue": "staff not back", "code-word": "code word used", "chain-exhausted": "whole chain taken",
}
"""The watch's event kinds in words."""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _listed(items: Any) -> str:
    items = [str(item) for item in items or ()]
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _twice(d: Mapping[str, Any]) -> str:
    """``; it may be in CPOMS twice: …: DOUBT`` for an entry whose detail holds the receiver's doubt, else nothing."""
    return f"; it {MAY_BE_TWICE}: {d['doubt']}" if d.get("doubt") else ""


def _because(text: Any) -> str:
    said = str(text or "").strip().rstrip(".")
    return f": {said}" if said else ""


def _time(value: Any, *, day: bool = True) -> str:
    """An ISO time from an entry's detail as people read it (``day=False``: the time of day alone)."""
    if not isinstance(value, str):
        return humanize.NOTHING
    moment = datetime.fromisoformat(value)
    return humanize.moment(moment) if day else humanize.time_of_day(moment)


def _findings(detail: Mapping[str, Any]) -> str:
    tally = detail.get("findings") or {}
    found = [_plural(tally[key], word) for key, word in (("block", "block"), ("warn", "warning")) if tally.get(key)]
    return f" The policy found {_listed(found)}." if found else ""


class _Sentences:
    """Writes each entry's sentence, knowing the school's staff by name and whom the visit is for."""

    def __init__(self, names: Mapping[str, str], pupil: str) -> None:
        self.names = names
        self.pupil = pupil

    def who(self, staff_id: Any) -> str:
        return humanize.person(str(staff_id) if staff_id else None, self.names)

    def people(self, staff_ids: Any) -> str:
        return _listed(self.who(staff_id) for staff_id in staff_ids or ())

    def request(self, d: Mapping[str, Any]) -> str:
        staff = f" with {self.people(d.get('staff'))}" if d.get("staff") else ""
        return (f"asked for a visit to {self.pupil} ({d.get('reason') or 'no reason given'}), "
                f"{_time(d.get('planned_start'))}–{_time(d.get('expected_return'), day=False)}{staff}.{_findings(d)}")

    def authorise(self, d: Mapping[str, Any]) -> str:
        acked = d.get("acknowledged")
        return f"authorised the visit{', acknowledging ' + _listed(acked) if acked else ''}.{_findings(d)}"

    def check_in(self, d: Mapping[str, Any]) -> str:
        extra = [words for flag, words in (("code_word_used", "THE CODE WORD WAS USED"),
                                           ("concerns", "concerns were raised")) if d.get(flag)]
        return f"recorded a check-in ({d.get('kind', 'contact')}){'; ' + '; '.join(extra) if extra else ''}."

    def report(self, d: Mapping[str, Any]) -> str:
        return (f"wrote the visit's report: child seen: {humanize.yes_no(d.get('child_seen'))}; "
                f"child protection concern: {humanize.yes_no(d.get('cp_concern'))}.{_findings(d)}")

    def ending(self, verb: str) -> Callable[[Mapping[str, Any]], str]:
        def sentence(d: Mapping[str, Any]) -> str:
            safety = " for the staff's safety" if d.get("for_safety") else ""
            return f"{verb} the visit{safety}{_because(d.get('reason'))}."
        return sentence

    def fired(self, d: Mapping[str, Any]) -> str:
        what = EVENT_WORDS.get(str(d.get("kind")), str(d.get("kind")))
        return (f"raised alarm #{d.get('escalation_id')} ({what}), step {int(d.get('step', 0)) + 1} of the chain, "
                f"calling on {_listed(d.get('who')) or 'nobody named'}.")

    def escalation_ack(self, d: Mapping[str, Any]) -> str:
        return f"acknowledged alarm #{d.get('escalation_id')} (step {int(d.get('step', 0)) + 1}){_because(d.get('note'))}."

    def stand_down(self, d: Mapping[str, Any]) -> str:
        alarms = _listed(f"#{number}" for number in d.get("escalations") or ())
        return f"stood the alarm down, staff safe (closing {alarms}){_because(d.get('note'))}."

    def queued(self, d: Mapping[str, Any]) -> str:
        alert = ", alerting the DSL" if d.get("alert_dsl") else ""
        return f"put the {d.get('kind', 'visit')} record for CPOMS in the outbox as #{d.get('outbox_id')}{alert}."

    def retry(self, d: Mapping[str, Any]) -> str:
        corrected = " with a corrected report" if d.get("corrected") else ""
        return f"sent outbox record #{d.get('outbox_id')} to CPOMS again{corrected}."

    def in_tray(self, d: Mapping[str, Any]) -> str:
        return (f"left outbox record #{d.get('outbox_id')} in CPOMS's Incident Tray as incident {d.get('incident')}, "
                f"on no pupil's chronology, for the DSL team to attach to {self.pupil}{_twice(d)}.")

    def confirmed(self, d: Mapping[str, Any]) -> str:
        done = confirmed_as(str(d.get("cpoms_ref")), attached=bool(d.get("attached")), pupil=self.pupil)
        return f"confirmed outbox record #{d.get('outbox_id')} {done}."

    def twice_checked(self, d: Mapping[str, Any]) -> str:
        found = FOUND.get(d["found"], d["found"]) if "found" in d else "nothing said"
        return (f"looked in CPOMS for a second copy of outbox record #{d.get('outbox_id')} (CPOMS record "
                f"{d.get('cpoms_id')}) and found {found}.")

    def sentence(self, entry: AuditEntry) -> str:
        d = entry.detail
        known: dict[str, Callable[[Mapping[str, Any]], str]] = {
            "visit.request": self.request,
            "visit.authorise": self.authorise,
            "visit.decline": lambda d: f"declined the visit{_because(d.get('reason'))}.",
            "visit.override": lambda d: f"overrode the block {d.get('rule_id')}{_because(d.get('reason'))}.",
            "visit.acknowledge": lambda d: f"acknowledged the warning {d.get('rule_id')}{_because(d.get('note'))}.",
            "visit.ack": lambda d: f"acknowledged {_listed(d.get('rule_ids'))}.",
            "visit.sign-out": lambda d: f"signed the staff out.{_findings(d)}",
            "visit.check-in": self.check_in,
            "visit.extend": lambda d: f"gave the staff more time: back by {_time(d.get('expected_return'))}.",
            "visit.mark-overdue": lambda d: "marked the visit overdue: the staff were not back on time.",
            "visit.mark-escalated": lambda d: "started the school's escalation chain.",
            "visit.return": lambda d: f"recorded the staff back.{_findings(d)}",
            "visit.report": self.report,
            "visit.close": lambda d: "closed the visit.",
            "visit.cancel": self.ending("cancelled"),
            "visit.abort": self.ending("aborted"),
            "visit.code-word-shown": lambda d: "was shown the code word.",
            "escalation.fired": self.fired,
            "escalation.escalated-now": lambda d: "escalated at once: " + self.fired(d),
            "escalation.ack": self.escalation_ack,
            "escalation.stand-down": self.stand_down,
            "escalation.closed": lambda d: f"closed an alarm{_because(d.get('reason'))}.",
            "outbox.queued": self.queued,
            "outbox.parked": lambda d: f"parked outbox record #{d.get('outbox_id')}: CPOMS refused it{_because(d.get('reason'))}.",
            "outbox.retry": self.retry,
            "outbox.in-tray": self.in_tray,
            "outbox.written": lambda d: (f"left outbox record #{d.get('outbox_id')} {WHERE[AWAITING_ENTRY]}, in "
                                         f"{d.get('written_to')}."),
            "outbox.may-be-twice": lambda d: (f"sent outbox record #{d.get('outbox_id')} to CPOMS as record "
                                              f"{d.get('cpoms_id')}{_twice(d)}."),
            "outbox.twice-checked": self.twice_checked,
            "outbox.confirmed": self.confirmed,
        }
        write = known.get(entry.action)
        if write is None:
            facts = "; ".join(f"{key}: {_fact(value)}" for key, value in sorted(d.items()) if key != "by_name")
            said = f"{self.who(entry.actor)}: {entry.action}{' (' + facts + ')' if facts else ''}."
        else:
            said = f"{self.who(entry.actor)} {write(d)}"
        return said[:1].upper() + said[1:]  # "The watch …"


def _fact(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return humanize.yes_no(value)
    if isinstance(value, list | tuple):
        return _listed(value)
    return str(value)


def history_lines(entries: list[AuditEntry], names: Mapping[str, str], pupil: str | None) -> list[str]:
    """One line per entry: ``Mon 23 Nov 2026 09:15  Jo Smith authorised the visit. Now authorised. (#12)``.

    :param names: staff id → name in the visit's school.
    :param pupil: the pupil's name (``None``: the visit is no longer in the store).
    """
    sentences = _Sentences(names, pupil or "the pupil")
    lines = []
    for entry in entries:
        moved = entry.state and entry.state != entry.detail.get("from", entry.state)
        now = f" Now {entry.state}." if moved else ""
        lines.append(f"{humanize.moment(entry.at)}  {sentences.sentence(entry)}{now}  (#{entry.seq})")
    return lines
