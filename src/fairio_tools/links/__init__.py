"""External link health of the training catalogue.

- :mod:`~fairio_tools.links.check`: concurrent, polite checking (per-host limit, Retry-After,
  HEAD then GET, redirects hop by hop, conditional requests) and classification;
- :mod:`~fairio_tools.links.guard`: the SSRF guard every connection passes;
- :mod:`~fairio_tools.links.limits`: how long one URL and one run may take;
- :mod:`~fairio_tools.links.content`: soft-404 detection and main-text fingerprints;
- :mod:`~fairio_tools.links.state`: the committed state file, change dates, deprecation;
- :mod:`~fairio_tools.links.catalogue_links` and :mod:`~fairio_tools.links.report`: from
  catalogue entries to URLs, and back to a curator report;
- :mod:`~fairio_tools.links.issue`: the weekly curator issue, the changes since the last run
  first (new dead links, changed content, recovered, newly deprecated, not finished).
"""
