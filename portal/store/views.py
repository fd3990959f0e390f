"""The public storefront: the plans on sale, readable without signing in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from provisioning.selectors import plans_on_sale


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "store/home.html", {"plans": plans_on_sale()})
