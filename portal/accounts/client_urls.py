"""The client area's account pages, under /account/ (signed-in customers only)."""

from django.urls import path

from portal.accounts import views

app_name = "account"

urlpatterns = [
    path("billing/", views.billing_details, name="billing"),
]
