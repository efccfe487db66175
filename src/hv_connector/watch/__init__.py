"""Watch: turn the clock into check-in reminders and escalations, along each school's chain.

- :mod:`.schedule` — pure: from a visit's state and the school's plan, which
  events are due, which no longer apply, and when to look again.
- :mod:`.store` — the watch's tables: the visits it looks after, the events
  fired (each once, by its key), the queue of when to look next.
- :mod:`.tick` — one tick: notice changes, look at what is due, move
  visits on, record then notify, heartbeat.
- :mod:`.daemon` — ``hvc watch`` running: tick, wait until something falls
  due, stop on a signal.
- :mod:`.concerns` — pushing safeguarding concerns to CPOMS between ticks.
- :mod:`.escalations` — what people do with an alarm: acknowledge, escalate
  now, stand down; listing open escalations; the live board.
- :mod:`.delivery` — sending notifications: each claimed, sent, recorded
  as sent, one at a time; a lane per notifier, so a slow one slows nobody.
- :mod:`.notify` — the notifier interface and loading the configured ones.
- :mod:`.drill` — a rehearsal of a school's chain that notifies nobody.

The watch moves visits through :mod:`hv_connector.visits` and pushes concerns
through :mod:`hv_connector.outbox`. Inside, arrows point down: ``daemon``,
``concerns``, ``escalations`` and ``drill`` → ``tick`` → ``delivery`` →
``store`` and ``notify`` → ``schedule`` (an import-linter contract keeps it so).
"""
