from django.urls import path

from portal.store import views

app_name = "store"

urlpatterns = [
    path("plans/<slug:slug>/", views.plan_detail, name="plan_detail"),
    path("cart/", views.cart, name="cart"),
    path("cart/remove/", views.cart_remove, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="order_list"),
    # Under /store/: the client area owns /services/.
    path("store/services/<int:pk>/change-plan/", views.change_plan, name="change_plan"),
]
