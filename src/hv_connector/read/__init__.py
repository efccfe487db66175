"""The read layer the CLI and the dashboard share: what a person is shown, read once.

- :mod:`.queries` — lists and counts of visits, findings, outbox rows and
  sync runs, as small frozen rows.
- :mod:`.briefing` — the pupil briefing staff read before they knock.
- :mod:`.attendance` — attendance figures from the stored session marks.
- :mod:`.history` — a visit's audit log as sentences a person reads.

Nothing here writes; both front ends read through it so they never disagree.
"""
