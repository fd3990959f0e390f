"""The client area's URLs; every one takes a service id that must be the customer's own."""

from django.urls import path

from provisioning import api, views

app_name = "provisioning"

urlpatterns = [
    path("", views.home, name="home"),
    path("services/", views.service_list, name="service_list"),
    path("services/<int:pk>/", views.service_detail, name="service_detail"),
    path("services/<int:pk>/status.json", views.service_status, name="service_status"),
    path("services/<int:pk>/traffic/", views.service_traffic, name="service_traffic"),
    path(
        "services/<int:pk>/connection.json",
        api.connection_status,
        name="service_connection",
    ),
]
