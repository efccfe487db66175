"""CPOMS over HTTP, to the contract in ``shared/apis/cpoms.md`` §4, one module per job.

- :mod:`.payloads` — the contract's bodies as pydantic models (in: unknown fields ignored; out: exactly the contract).
- :mod:`.errors` — the one map from a CPOMS response to an :mod:`hv_connector.errors` class.
- :mod:`.client` — :class:`~.client.CpomsClient`: one school's token, retried with the same Idempotency-Key.

There is no public CPOMS API; this client speaks the contract our fake server
(``fixtures/cpoms_server.py``) implements, so a real partner adapter can later
replace it behind :class:`hv_connector.outbox.queue.ReportSink`.

::

    CpomsClient.create_incident(request, key)
      ├── 201 (or a replay of one)              → IncidentResult
      ├── safe to send again: 429 (after Retry-After), 409 idempotency_key_in_use,
      │   a refused connection or a connect timeout (nothing was sent)
      │        → retried (:mod:`hv_connector.clients.retry`: back-off with jitter,
      │          Retry-After honoured, each retry logged) with the SAME Idempotency-Key
      ├── the answer may be lost: 5xx, a read timeout, a dropped connection
      │        → the next try first asks CPOMS by reference (found: already there);
      │          it POSTs again only when CPOMS says the record is not there, or when
      │          it cannot tell: an incident that carries no reference of ours counts
      │          only if CPOMS filters by reference (asked once, for one no record
      │          has); else the POST's answer says it may be there twice (``doubt``)
      ├── tries used up → CpomsUnavailable
      │          (outcome_unknown=True when a POST may have reached CPOMS)
      └── refusal: 400/401/403/404/409 reused/413/415/422 → CpomsRejected(details)

Asking first, rather than trusting ``Idempotency-Key``: nothing public says CPOMS
honours the header (``shared/apis/cpoms.md`` §0), and a receiver that ignores it
stores a second record for every POST whose answer was lost.

One :func:`~.errors.error_for` maps every non-2xx response to its exception. The token
travels only in the ``Authorization`` header: it is never logged, and no
message or exception carries it.
"""
