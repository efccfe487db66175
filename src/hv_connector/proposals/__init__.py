"""Visits proposed from attendance: the DSL team's worklist, driven by each school's triggers.

- :mod:`.triggers` — a school's triggers (its plugin's and the core's) at its configured thresholds.
- :mod:`.refresh` — after each sync, pupils newly meeting a trigger become proposals; those no longer meeting
  it close by themselves, recorded.
- :mod:`.decide` — accept (a visit request, through the normal request → authorise path) or dismiss, audited.

What the list shows is read by :mod:`hv_connector.read.proposals`, which the CLI and the dashboard share.
"""
