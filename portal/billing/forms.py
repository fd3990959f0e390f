from decimal import Decimal

from django import forms
from django.conf import settings

from portal.billing.models import CancellationWhen
from portal.billing.money import MoneyFormField


class AddFundsForm(forms.Form):
    amount = MoneyFormField(label="Amount to add")

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        low, high = settings.BILLING_ADD_FUNDS_MIN, settings.BILLING_ADD_FUNDS_MAX
        if not low <= amount <= high:
            raise forms.ValidationError(f"Add between {low} and {high}.")
        return amount


class CancellationForm(forms.Form):
    when = forms.ChoiceField(choices=CancellationWhen.choices)
    reason = forms.CharField(max_length=500, required=False)
    confirm = forms.BooleanField(
        error_messages={"required": "Tick the box to confirm that the service will be deleted."}
    )
