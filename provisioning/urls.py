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
        "services/<int:pk>/config/<slug:protocol>.<slug:ext>",
        views.service_config,
        name="service_config",
    ),
    path("services/<int:pk>/otl/", views.service_otl, name="service_otl"),
    path(
        "services/<int:pk>/connection.json",
        api.connection_status,
        name="service_connection",
    ),
    path("services/<int:pk>/traffic.json", api.traffic_json, name="service_traffic_json"),
]
