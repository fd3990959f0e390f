"""Sign-in (allauth's view, throttled) and the client area's account pages: billing details,
API tokens."""

from __future__ import annotations

from datetime import timedelta

from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from portal.accounts import services
from portal.accounts.forms import ApiTokenForm, BillingDetailsForm, LoginForm
from portal.accounts.models import BILLING_FIELDS, Customer
from portal.accounts.selectors import staff_lacks_two_factor, user_api_tokens
from portal.core import ratelimit
from portal.core.http import no_store, too_many_requests

API_TOKEN_RATE_LIMITED = "Too many tokens were made just now. Please try again later."  # noqa: S105
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


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a POST makes one and shows it this once (never stored)."""
    form = ApiTokenForm(request.POST or None)
    context: dict[str, object] = {"form": form, "needs_2fa": staff_lacks_two_factor(request.user)}
    if request.method == "POST" and not context["needs_2fa"] and form.is_valid():
        key = f"api_token_create:{request.user.pk}"
        window = settings.API_TOKEN_CREATE_WINDOW_SECONDS
        if not ratelimit.hit(key, settings.API_TOKEN_CREATE_LIMIT, window):
            messages.error(request, API_TOKEN_RATE_LIMITED)
            return too_many_requests(_api_tokens_page(request, context), window=window)
        days = form.cleaned_data["expires_in_days"]
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        row, token = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"], expires_at=expires_at
        )
        context.update(new_token=token, new_row=row, form=ApiTokenForm())
    return no_store(_api_tokens_page(request, context))


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    """Revoke the user's token ``token`` (its id, posted); another user's is a 404. A GET
    changes nothing: it is sent to the tokens page."""
    if request.method == "GET":
        return redirect("account:api_tokens")
    pk = request.POST.get("token", "")
    token = get_object_or_404(user_api_tokens(user=request.user), pk=pk if pk.isdigit() else 0)
    services.api_token_revoke(token=token)
    messages.success(request, f"The token {token} is revoked: it no longer works.")
    return redirect("account:api_tokens")


def _api_tokens_page(request: HttpRequest, context: dict[str, object]) -> HttpResponse:
    context["tokens"] = user_api_tokens(user=request.user)
    context["now"] = timezone.now()
    return render(request, "account/api_tokens.html", context)
