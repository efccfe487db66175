"""Visits: the lifecycle every home visit goes through, and the service that moves it.

requested → authorised / declined → signed out → (check-ins) → returned /
overdue → escalated → reported → closed; or cancelled / aborted.

- :mod:`.lifecycle` — the states, the actions and which action leads where:
  the one list of visit states the rest of the product reads.
- :mod:`.service` — :class:`~.service.VisitService`: one transaction per
  action, asking the school's policy for findings, writing the audit log and,
  when a visit finishes, its outbox record.
- :mod:`.input` — reading what people type or file (a visit request, a
  report, check-ins) into models.
- :mod:`.files` — loading a visit document from a JSON file.
- :mod:`.timetable` — what the watch reads of a visit out (times, check-ins,
  staff, the plan and chain its policy gave), written with the visit.

The watch and the CLI call into this package; it calls the outbox to enqueue
reports, and the store.
"""
