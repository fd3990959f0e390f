"""Provisioning's staff endpoints of the REST API (docs/api.md): servers and services."""
