"""How long the link checker may spend: per URL and per run (no imports, cheap for the CLI)."""

URL_DEADLINE = 30.0
"""Seconds one URL may take: its requests, retries, ``Retry-After`` waits and redirect hops.

Time spent queueing behind other URLs of the same host does not count."""

MAX_RETRY_AFTER = 10.0
"""Longest ``Retry-After`` waited for; a longer one is not waited for (the answer stands)."""

RUN_DEADLINE = 1800.0
"""Seconds a whole run may take; URLs not finished by then are reported as not checked."""
