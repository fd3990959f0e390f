"""The customer-facing client area: the service pages under /services/ and their JSON endpoints.

- :mod:`.views` — HTML pages; :mod:`.api` — the JSON the pages' scripts poll;
- :mod:`.panel_reads` — every panel read (and one-time link) they show; views never call a panel;
- :mod:`.presentation` — labels, setup steps, plan and period choices (pure functions);
- :mod:`.messages` / :mod:`.responses` — the customer's words and the one error → response mapping.
"""
