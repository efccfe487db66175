"""What a Wonde response means: the one status-to-class map, and which failures are worth retrying."""

from __future__ import annotations

import httpx

from hv_connector.clients.retry import retry_after
from hv_connector.errors import MisAuthError, MisError, MisUnavailable
from hv_connector.text import neutralise

TOKEN_SETTING = "HVC_WONDE__TOKEN / [wonde] token"
TRANSIENT_STATUSES = frozenset({423, 429, 500, 502, 503, 504})
"""Statuses worth retrying: Wonde's docs list 423, 429, 500 and 503; 502/504 are proxies failing."""


def error_for(response: httpx.Response, school: str | None) -> MisError | None:
    """The error a Wonde response means, or ``None`` for a success. The one status-to-class map."""
    status = response.status_code
    if status < 300:
        return None
    who = f"school {school}" if school else "Wonde"
    if status == 401:
        return MisAuthError(f"the Wonde app token is wrong (401 for {who}): check {TOKEN_SETTING}")
    if status in (403, 404) and school:
        return MisAuthError(
            f"school {school} has not approved hv-connector or revoked it ({status}): "
            "ask the school to re-approve hv-connector in its Wonde portal"
        )
    if status == 422:
        return MisError(f"Wonde refused the request for {who} (422): {_body(response)}")
    if status == 423:
        return MisUnavailable(
            f"{who} is inactive in Wonde (423 school inactive): ask the school to check its Wonde account",
            retry_after(response),
        )
    if status == 429:
        return MisUnavailable(f"Wonde is rate-limiting requests for {who} (429): lower [wonde] requests_per_second",
                              retry_after(response))
    if status in TRANSIENT_STATUSES:
        return MisUnavailable(f"Wonde failed for {who} ({status}): it will be retried on the next sync",
                              retry_after(response))
    return MisError(f"Wonde answered {status} for {who}: {_body(response)}")


def unfollowable_link(link: str, school: str, reason: str, limit: int = 200) -> MisError:
    """The error for a ``next`` page link that is not a URL httpx can request (a control character, a bad port):
    the link is Wonde's text, so it is shown cut short, every control character an escape."""
    return MisError(f"Wonde sent school {school} a next-page link hv-connector cannot follow ({neutralise(reason)}): "
                    f"{_cut(link, limit)}. Sync of school {school} stopped; the next sync tries again. If it keeps happening, "
                    "ask Wonde support about the school's feed")


def _body(response: httpx.Response, limit: int = 500) -> str:
    """Wonde's words, one line: they go into the sync's stored message and the logs (a line break is a space;
    any other control character shows as an escape)."""
    text = response.text.strip().replace("\n", " ")
    return _cut(text, limit) if text else "(empty body)"


def _cut(text: str, limit: int) -> str:
    """Wonde's ``text`` cut to ``limit`` characters (an ellipsis says so), every control character an escape."""
    return neutralise(text[:limit]) + ("…" if len(text) > limit else "")


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, an inactive or failing server, and lost connections or timeouts."""
    return isinstance(exc, (MisUnavailable, httpx.TransportError))
