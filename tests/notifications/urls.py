"""A page that sends an email inside its transaction, as the portal's pages do, and the page
Django's password-reset email links to."""

from django.contrib.auth import views as auth_views
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

SUBJECT = "Your order is confirmed"


@require_POST
def confirm_order(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        send_mail(SUBJECT, "Thank you for your order.", None, [request.POST["email"]])
    return HttpResponse("confirmed")


urlpatterns = [
    path("confirm/", confirm_order, name="confirm_order"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
