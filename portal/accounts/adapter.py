"""The portal's allauth adapters: its redirects, messages, throttle, branding and encryption."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.core.mail import EmailMessage
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from portal.accounts.throttle import client_address
from portal.core import crypto
from portal.core.models import Branding

ALLAUTH_EMAIL_VERIFICATION_STAGE = "allauth.account.stages.EmailVerificationStage"
PORTAL_EMAIL_VERIFICATION_STAGE = "portal.accounts.stages.EmailVerificationStage"


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # Django's wording, which customers saw before allauth.
        "username_password_mismatch": "Please enter a correct username and password. "
        "Note that both fields may be case-sensitive.",
        "email_password_mismatch": "Please enter a correct email address and password. "
        "Note that the password is case-sensitive.",
    }

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """Without a safe ``next``, staff go to the admin: they have no services to land on."""
        if request.user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)

    def is_safe_url(self, url: str) -> bool:
        """Only paths on this site (class 21), and never the sign-in page itself (a loop)."""
        if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts=set()):
            return False
        return not url.split("?", 1)[0].startswith(reverse("login"))

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Failed passwords are counted by ``portal.accounts.throttle`` in the login form
        (per name, address and both), not by allauth's ``login_failed`` limit, which is left
        to count wrong two-factor codes."""

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address the sign-in throttle uses (``PORTAL_TRUSTED_PROXY_COUNT``)."""
        return client_address(request)

    def get_login_stages(self) -> list[str]:
        return [
            PORTAL_EMAIL_VERIFICATION_STAGE if path == ALLAUTH_EMAIL_VERIFICATION_STAGE else path
            for path in super().get_login_stages()
        ]

    def format_email_subject(self, subject: str) -> str:
        return f"[{Branding.current().shop_name}] {subject}"

    def get_from_email(self) -> str:
        """The shop's name on the sender, as on the portal's own mails."""
        return Branding.current().email_sender

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Text and HTML (``<prefix>_message.html``, in ``notifications/base.html``'s look)."""
        branding = Branding.current()
        context = {"branding": branding, "colour": branding.email_colour, **context}
        super().send_mail(template_prefix, email, context)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """Replies go to the support email, as on the portal's own mails."""
        message = super().render_mail(template_prefix, email, context, headers)
        message.reply_to = Branding.current().email_reply_to
        return message


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds encrypted at rest, like every other secret."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def get_totp_issuer(self) -> str:
        return Branding.current().shop_name
