"""Use cases that change accounts: one function per verb, each in its own transaction."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.models import BILLING_FIELDS, ApiToken, Customer
from portal.accounts.selectors import api_token_hash

#: What a customer may change of their billing details (``tax_exempt`` is staff's).
CUSTOMER_EDITABLE_FIELDS = BILLING_FIELDS
#: API tokens read ``vpt_<43 url-safe characters>``; the first characters are shown to tell
#: them apart (and let secret scanners recognise one).
API_TOKEN_PREFIX = "vpt_"  # noqa: S105 - the label every token starts with, not a secret
API_TOKEN_SHOWN_CHARS = 12
API_TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)


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
    their device, and revoke their API tokens (a staff token must not outlive the second factor
    it was made under; whoever holds the lost device may hold a token too); audited in the admin
    log under ``actor``. Returns how many authenticators were removed."""
    removed, _ = Authenticator.objects.filter(user_id=user.pk).delete()
    if removed:
        ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message="Reset two-factor authentication (removed its authenticators and "
            "revoked its API tokens).",
            single_object=True,
        )
    return removed


@transaction.atomic
def api_token_create(
    *, user: AbstractBaseUser, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new API token of ``user``: the row and the token itself, which is not kept (only its
    hash is) and so can be shown this once."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=token[:API_TOKEN_SHOWN_CHARS],
        secret_hash=api_token_hash(token),
        expires_at=expires_at,
    )
    return row, token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` from now on; revoking it again keeps the first time."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Record that ``token`` was used at ``now`` — at most one write a minute per token (a
    conditional update), not one per request."""
    stale = now - API_TOKEN_LAST_USED_PRECISION
    updated = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale))
        .update(last_used_at=now)
    )
    if updated:
        token.last_used_at = now
