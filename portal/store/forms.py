from django import forms

from portal.billing.cycles import BillingCycle
from portal.store.cart import MAX_QUANTITY


class AddToCartForm(forms.Form):
    cycle = forms.ChoiceField(choices=BillingCycle.choices, widget=forms.RadioSelect)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args, cycles: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].choices = cycles
        if cycles:
            self.fields["cycle"].initial = cycles[0][0]


class CheckoutForm(forms.Form):
    checkout_token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This checkout page is out of date: please open it again.",
            "invalid": "This checkout page is out of date: please open it again.",
        },
    )
    coupon = forms.CharField(max_length=40, required=False, label="Coupon code")
    accept_terms = forms.BooleanField(required=False, label="I accept the terms of service.")
    use_credit = forms.BooleanField(required=False, label="Pay what I can from my credit balance")


class ChangePlanForm(forms.Form):
    plan = forms.IntegerField(min_value=1)
