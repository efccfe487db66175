"""Outbox and push: every finished report and concern, delivered to the school's report sink.

- :mod:`.report` — builds the record a sink receives from the visit, with
  every decision and its reason.
- :mod:`.queue` — the outbox table: enqueued in the same transaction that
  finishes a visit, listed, retried; and the pusher that claims due records,
  asks before sending again, and parks refusals.

A record is written once and delivered at least once; asking the receiver by
reference before resending keeps it from arriving twice.
"""
