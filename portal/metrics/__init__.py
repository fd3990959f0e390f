"""The Prometheus endpoint ``/metrics``: what panel calls, provisioning and the live-status cache
recorded (``portal.core.metrics``, totals of every machine), with what the database and the broker
say at the scrape. It reads billing and provisioning, so it sits above both; nothing imports it
but the URLs."""
