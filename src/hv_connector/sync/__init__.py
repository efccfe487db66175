"""Sync: pupil background from each school's MIS into the store.

The first pipeline of the diagram in ARCHITECTURE.md::

    MIS adapter ──► pipeline (walk, spool) ──► store (one transaction a school)

- :mod:`.records` — the normalised records an MIS adapter yields
  (pupil, departure, rejected); the sync never sees the MIS's own shapes.
- :mod:`.pipeline` — walks each school's adapter concurrently, spools the
  pages and hands them to the writer; one school's failure fails only it.
- :mod:`.attendance` — the session marks an adapter that reads the register
  yields, and which days each sync asks it for.
- :mod:`.store` — writes one school's spooled pages in one transaction
  (upserts, archives, quarantine, cursors, the run row) and reads back how
  syncs went.

Arrows point down: ``pipeline`` uses ``store`` and ``records``; nothing here
imports the visits, outbox or watch pipelines.
"""
