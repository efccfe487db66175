"""The Wonde API, one module per job.

- :mod:`.payloads` — Wonde's records as pydantic models (unknown fields ignored, PHP dates read).
- :mod:`.errors` — the one map from a Wonde response to an :mod:`hv_connector.errors` class.
- :mod:`.client` — :class:`~.client.WondeClient`: one app token, paged lists, paced retries.
- :mod:`.attendance` — the register: session marks and attendance codes.

One :class:`~.client.WondeClient` serves every school the token reaches (the token is
the app's, not the school's), so its request-rate limiter and concurrency
bound apply to all schools syncing at once. Lists are walked as async
iterators of :class:`~.payloads.Page`; a page's records stay raw so the caller validates
each one on its own and a bad record never spoils its neighbours::

    async with WondeClient(token, base_url=...) as wonde:
        async for page in wonde.students("A1930499544", since=cursor):
            ...
"""
