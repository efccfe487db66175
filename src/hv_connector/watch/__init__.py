"""Watch: turn the clock into check-in reminders and escalations, along each school's chain.

- :mod:`.schedule` — pure: from a visit's state and the school's plan, which
  events are due, which no longer apply, and when to look again.
- :mod:`.watcher` — the tick (notice changes, look at what is due, move
  visits on, record then notify, heartbeat) and the daemon loop.
- :mod:`.escalations` — what people do with an alarm: acknowledge, escalate
  now, stand down; listing open escalations.
- :mod:`.notify` — the notifier interface and loading the configured ones.
- :mod:`.drill` — a rehearsal of a school's chain that notifies nobody.

The watch moves visits through :mod:`hv_connector.visits` and pushes concerns
through :mod:`hv_connector.outbox`.
"""
