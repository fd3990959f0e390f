"""The sign-in forms (client area and admin, both throttled, see ``throttle``), the sign-up form
and the customer's billing details form."""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from allauth.account.utils import filter_users_by_email
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import ngettext

from portal.accounts import services
from portal.accounts.countries import COUNTRIES
from portal.accounts.models import BILLING_FIELDS, Customer
from portal.accounts.throttle import LoginThrottle
from portal.accounts.vat import vat_id_clean


class ThrottledLoginMixin:
    """Refuses an attempt over a limit without checking its password; counts every failure."""

    #: The form field holding the name typed to sign in.
    name_field = "username"
    #: Seconds until the attempt may be retried, once this form refused it as throttled.
    retry_after: int | None = None

    def throttle_name(self, typed: str) -> str:
        return typed

    def clean(self) -> dict[str, Any]:
        name = self.cleaned_data.get(self.name_field)
        if name is None or not self.cleaned_data.get("password"):
            return super().clean()  # no password tried: the form only reports missing fields
        throttle = LoginThrottle(request=self.request, username=self.throttle_name(name))
        if not throttle.reserve():
            self.retry_after = throttle.retry_after()
            raise ValidationError(_throttled_message(self.retry_after), code="throttled")
        cleaned_data = super().clean()
        throttle.succeeded()
        return cleaned_data


class LoginForm(ThrottledLoginMixin, allauth_forms.LoginForm):
    """allauth's sign-in by username or email, throttled.

    Its name field is posted as ``username`` (id ``id_username``), as Django's form did, so
    password managers and scripts that knew the old page keep working.
    """

    name_field = "login"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or email"
        self.fields["login"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        # The page links "Forgot your password?" below the form; allauth's help text said it again.
        self.fields["password"].help_text = ""

    def add_prefix(self, field_name: str) -> str:
        return super().add_prefix("username" if field_name == "login" else field_name)

    def throttle_name(self, typed: str) -> str:
        """An account's email and its username share one set of counters."""
        if "@" not in typed:
            return typed
        users = filter_users_by_email(typed.strip(), prefer_verified=True)
        return users[0].get_username() if len(users) == 1 else typed


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up; the account and its ``Customer`` are made in one transaction."""

    def save(self, request: HttpRequest) -> AbstractBaseUser:
        with transaction.atomic():
            user = super().save(request)
            services.customer_create(user=user, signed_up=True)
        return user


class BillingDetailsForm(forms.ModelForm):
    """The billing details a customer edits; ``tax_exempt`` is not among them."""

    class Meta:
        model = Customer
        fields = BILLING_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].required = True
        self.fields["country"].choices = [("", "Choose your country"), *COUNTRIES]

    def clean(self) -> dict[str, Any]:
        """The VAT id checked against the chosen country, and stored in its compact form."""
        cleaned_data = super().clean()
        country = cleaned_data.get("country")
        vat_id = cleaned_data.get("vat_id", "")
        if country and vat_id:
            try:
                cleaned_data["vat_id"] = vat_id_clean(country=country, vat_id=vat_id)
            except ValidationError as exc:
                self.add_error("vat_id", exc)
        return cleaned_data


def _throttled_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return ngettext(
        "Too many failed sign-in attempts. Please wait %(minutes)d minute and try again.",
        "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}


class ApiTokenForm(forms.Form):
    """A new API token: what it is for, and how long it lasts."""

    EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]

    name = forms.CharField(
        max_length=100, help_text="What the token is for (a script, a server), to recognise it."
    )
    expires_in_days = forms.ChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, initial="90", required=False
    )
