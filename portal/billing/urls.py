from django.urls import path

from portal.billing import stripe_views, views

app_name = "billing"

urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf_download, name="invoice_pdf"),
    path("invoices/<int:pk>/pay/<slug:gateway>/", views.invoice_pay, name="invoice_pay"),
    path("invoices/<int:pk>/credit/", views.invoice_apply_credit, name="invoice_apply_credit"),
    path("credit/", views.credit, name="credit"),
    path("services/<int:pk>/cancel/", views.cancellation_request, name="cancellation_request"),
    path(
        "services/<int:pk>/cancel/withdraw/",
        views.cancellation_withdraw,
        name="cancellation_withdraw",
    ),
    path("stripe/webhook/", stripe_views.stripe_webhook, name="stripe_webhook"),
    path("stripe/return/<int:pk>/", stripe_views.stripe_return, name="stripe_return"),
]
