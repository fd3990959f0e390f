"""Use cases that change accounts: one function per verb, each in its own transaction."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from portal.accounts.models import BILLING_FIELDS, Customer

#: What a customer may change of their billing details (``tax_exempt`` is staff's).
CUSTOMER_EDITABLE_FIELDS = BILLING_FIELDS


def customer_create(*, user: AbstractBaseUser, **fields: Any) -> Customer:
    """The customer of ``user`` (a new sign-up), made in the caller's transaction."""
    return Customer.objects.create(user=user, **fields)


@transaction.atomic
def customer_billing_details_update(*, customer: Customer, **details: str) -> Customer:
    """Store the billing details a customer entered (already validated by their form)."""
    unknown = set(details) - set(CUSTOMER_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not billing details a customer may change: {sorted(unknown)}")
    for name, value in details.items():
        setattr(customer, name, value)
    customer.save(update_fields=[*details])
    return customer


@transaction.atomic
def user_two_factor_reset(*, user: AbstractBaseUser, actor: AbstractBaseUser) -> int:
    """Remove every authenticator of ``user`` (TOTP, recovery codes), for someone who lost
    their device; audited in the admin log under ``actor``. Returns how many were removed."""
    removed, _ = Authenticator.objects.filter(user_id=user.pk).delete()
    if removed:
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message="Reset two-factor authentication (removed its authenticators).",
            single_object=True,
        )
    return removed
