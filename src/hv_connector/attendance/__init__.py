"""Attendance the DfE way: session marks and what their codes mean, turned into the figures staff read.

- :mod:`.codes` — the DfE 2024 attendance codes and their statistical meanings, and reading an MIS's
  own meaning for a code the national list does not have.
- :mod:`.figures` — per pupil, from session marks: absence over the school year so far, the last
  4 weeks and the last 3 months; persistent (≥ 10 %) and severe (≥ 50 %) absence; unauthorised
  sessions in the last 10 school weeks.

Pure: no IO, no store, no MIS. The sync stores marks with their meaning; the read layer feeds them here.
"""
