"""HTTP clients for the remote systems hv-connector talks to.

- :mod:`.wonde` — the Wonde MIS API (a package: payloads, errors, client).
- :mod:`.cpoms` — CPOMS over the HTTP contract.
- :mod:`.ratelimit` — the request-rate limiter the clients pace themselves with.
- :mod:`.retry` — trying a request again: Retry-After, back-off with jitter, the retry log line.
- :mod:`.tls` — the TLS context every client verifies its server with, built once a process.
"""
