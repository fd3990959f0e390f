"""The sign-in stage that holds an account until its email address is verified."""

from __future__ import annotations

from allauth.account import stages

from portal.accounts.models import Customer


class EmailVerificationStage(stages.EmailVerificationStage):
    """allauth's mandatory verification, for the accounts customers made themselves.

    A sign-up (``Customer.signed_up``) is held here until its address is confirmed. Accounts
    made by staff (the admin, ``createsuperuser``, the demo seed) are not: staff vouched for
    them, and nobody asked them to confirm anything.
    """

    def handle(self):
        user = self.login.user
        if user is None or Customer.objects.filter(user_id=user.pk, signed_up=True).exists():
            return super().handle()
        return None, True
