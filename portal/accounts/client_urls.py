"""The client area's account pages, under /account/ (signed-in users; API tokens are staff's
too)."""

from django.urls import path

from portal.accounts import views

app_name = "account"

urlpatterns = [
    path("billing/", views.billing_details, name="billing"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
