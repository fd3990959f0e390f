"""Email: every message the portal sends (its own and the accounts' — verification, password
reset) goes through one queued backend that records it and sends it from a Celery task after the
commit, retrying failures; templates are Django templates, HTML and text."""
