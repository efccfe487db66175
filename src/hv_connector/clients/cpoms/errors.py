"""What a CPOMS response means: the one status-to-class map, and which failures are worth retrying."""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from hv_connector.clients.cpoms.payloads import ErrorBody
from hv_connector.clients.retry import retry_after
from hv_connector.errors import SinkRefused, SinkUnavailable

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class CpomsRejected(SinkRefused):
    """CPOMS refused the record (4xx): the ``cpoms-api`` sink's refusal, parked with CPOMS's reason."""


class CpomsUnavailable(SinkUnavailable):
    """CPOMS is down, slow or rate-limiting, or its answer was lost (``outcome_unknown``): retried with back-off.

    The ``cpoms-api`` sink hands one whose outcome is unknown on as a
    :class:`~hv_connector.errors.SinkOutcomeUnknown`, so the push asks CPOMS before sending again.
    """


def _error_body(response: httpx.Response) -> ErrorBody:
    """The receiver's error object, every word of it neutralised (:data:`~.payloads.Said`)."""
    try:
        return ErrorBody.model_validate(response.json().get("error") or {})
    except (ValueError, AttributeError, ValidationError):
        return ErrorBody(message=response.text[:200])


def error_for(response: httpx.Response, *, school_id: str, token_setting: str) -> CpomsRejected | CpomsUnavailable:
    """The exception for a non-2xx CPOMS response: the one place status becomes a class.

    Refusals (:class:`CpomsRejected`) are parked and never resent as they are;
    outages (:class:`CpomsUnavailable`) are retried with the same key.
    """
    body = _error_body(response)
    status = response.status_code
    where = f"CPOMS for school {school_id!r}"
    ref = f" (request {body.request_id})" if body.request_id else ""
    if status in _TRANSIENT_STATUS or (status == 409 and body.code == "idempotency_key_in_use"):
        why = "is rate-limiting us" if status == 429 else (
            "is still processing the same record" if status == 409 else "is unavailable")
        # A 5xx after our body went out may still have been stored by CPOMS.
        return CpomsUnavailable(
            f"{where} {why} ({status} {body.code}){ref}; the record stays in the outbox and is retried",
            retry_after=retry_after(response),
            outcome_unknown=status >= 500 and response.request.method == "POST",
        )
    details = [d.model_dump(exclude_none=True) for d in body.details]
    said = body.message.strip().rstrip(".")  # our sentence goes on after CPOMS's
    if status == 401:
        return CpomsRejected(
            f"{where} refused our token (401 {body.code}){ref}: check the token in {token_setting} "
            "(`hvc config check` names it) and that CPOMS has enabled the integration for this school",
            details,
        )
    if status == 403:
        return CpomsRejected(
            f"{where} forbids this (403 {body.code}){ref}: {said or 'the token lacks permission'}. "
            "Ask the school's CPOMS admin to allow hv-connector to add incidents in these categories",
            details,
        )
    shown = "; ".join(f"{d.get('field', '?')}: {d.get('issue', '?')}" for d in details)
    issues = {body.code, *(str(d.get("issue")) for d in details)}
    hint = next((text for issue, text in _HINTS.items() if issue in issues), _HINTS["default"])
    return CpomsRejected(
        f"{where} refused the record ({status} {body.code}){ref}: {said or 'no reason given'}"
        + (f" [{shown}]" if shown else "") + f". {hint}",
        details,
    )


_HINTS = {
    "student_not_found": "Check the pupil is on roll in CPOMS and that their UPN and MIS id are right in the MIS "
                         "(`hvc sync`), then `hvc outbox retry ID`",
    "student_ambiguous": "The UPN and MIS id point at different CPOMS pupils: correct the pupil in the MIS, then "
                         "`hvc outbox retry ID`",
    "unknown_category": "Map the category under [schools.ID.sink.category_map] in hvc.toml, then `hvc outbox retry ID`",
    "category_disabled": "Ask the CPOMS admin to enable the category, or map another under "
                         "[schools.ID.sink.category_map], then `hvc outbox retry ID`",
    "staff_not_found": "A visiting staff member's e-mail is not a CPOMS user: correct it in the staff directory, "
                       "then `hvc outbox retry ID`",
    "default": "Correct the report (`hvc outbox show ID --json`, edit the payload) and "
               "`hvc outbox retry ID --fixed FILE`",
}
"""What to do about a refusal, by CPOMS's code or a detail's issue."""


def is_transient(exc: BaseException) -> bool:
    """Whether trying again (with the same Idempotency-Key) may succeed."""
    return isinstance(exc, CpomsUnavailable)


def transport_error(exc: httpx.TransportError, method: str, school_id: str) -> CpomsUnavailable:
    """The :class:`CpomsUnavailable` for a request that got no answer, saying whether CPOMS may have it."""
    # Connect failures and pool timeouts happen before anything was sent; a read
    # timeout or a connection dropped mid-exchange may follow CPOMS storing it.
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    kind = type(exc).__name__
    return CpomsUnavailable(
        f"CPOMS for school {school_id!r} did not answer ({kind})"
        + ("; it may have received the record, so we ask before sending again" if sent and method == "POST" else ""),
        outcome_unknown=sent and method == "POST",
    )
