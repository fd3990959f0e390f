"""Stripe's settings, read in fresh processes: both secrets or neither, each of the right kind,
never quoted in the error; with Stripe on, the pages may send a form on to Stripe's Checkout."""

import json
import sys

import pytest

from tests.portal.test_settings import _run

SECRET_KEY = "sk_test_settings0123456789"
WEBHOOK_SECRET = "whsec_settings0123456789"
PRINT_FORM_ACTION = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
)


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"STRIPE_SECRET_KEY": SECRET_KEY}, "set together"),
        ({"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}, "set together"),
        (
            {
                "STRIPE_SECRET_KEY": "pk_test_publishable0123",
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            },
            "not the publishable",
        ),
        ({"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": "secret0123"}, "whsec_"),
    ],
)
def test_a_half_or_wrong_stripe_setup_stops_the_start_without_quoting_the_secret(
    tmp_path, env, error
):
    result = _run([sys.executable, "-c", PRINT_FORM_ACTION], {"DJANGO_DEBUG": "1", **env}, tmp_path)

    assert result.returncode != 0
    assert error in result.stderr
    for value in env.values():
        assert value not in result.stderr


def test_with_stripe_set_up_the_pay_form_may_go_on_to_stripe_checkout(tmp_path):
    keys = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}

    without = _run([sys.executable, "-c", PRINT_FORM_ACTION], {"DJANGO_DEBUG": "1"}, tmp_path)
    with_stripe = _run(
        [sys.executable, "-c", PRINT_FORM_ACTION], {"DJANGO_DEBUG": "1", **keys}, tmp_path
    )

    assert json.loads(without.stdout) == ["'self'"]
    assert json.loads(with_stripe.stdout) == ["'self'", "https://checkout.stripe.com"]
