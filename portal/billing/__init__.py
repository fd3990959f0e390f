"""Billing: invoices (gapless numbers at payment, PDF), payments and gateways, credit, tax, and
each service's billing record (cycle, recurring price, next due date).

It sits beside provisioning, never inside it: it changes services only through the lifecycle API
(``provisioning.services``) and provisioning never imports it.
"""
