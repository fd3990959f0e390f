"""Sign-in (allauth's view, throttled) and the client area's billing details page."""

from __future__ import annotations

from allauth.account import views as allauth_views
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.accounts import services
from portal.accounts.forms import BillingDetailsForm, LoginForm
from portal.accounts.models import BILLING_FIELDS, Customer
from portal.core.http import no_store

BILLING_DETAILS_SAVED = (
    "Your billing details have been saved. Invoices you have not started paying show them."
)


class LoginView(allauth_views.LoginView):
    """allauth's sign-in (stages: email verification, two-factor code) with the throttled
    form; a throttled attempt answers 429 with ``Retry-After``."""

    form_class = LoginForm

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        return answer_throttled(super().form_invalid(form), form)


def answer_throttled(response: HttpResponse, form: object) -> HttpResponse:
    """429 with ``Retry-After`` when the sign-in form refused the attempt as throttled."""
    retry_after = getattr(form, "retry_after", None)
    if retry_after is not None:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response


def _customer(request: HttpRequest) -> Customer:
    try:
        return request.user.customer
    except ObjectDoesNotExist:
        raise Http404("This account has no customer record.") from None


@login_required
@require_http_methods(["GET", "POST"])
def billing_details(request: HttpRequest) -> HttpResponse:
    """The signed-in customer's billing details: name, company, address, country, VAT id."""
    customer = _customer(request)
    form = BillingDetailsForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        changed = [name for name in BILLING_FIELDS if name in form.changed_data]
        details = {name: form.cleaned_data[name] for name in changed}
        if details:  # saved with only what changed: billing re-taxes on a new country or VAT id
            services.customer_billing_details_update(customer=customer, **details)
        messages.success(request, BILLING_DETAILS_SAVED)
        return no_store(redirect("account:billing"))
    return no_store(render(request, "account/billing_details.html", {"form": form}))
