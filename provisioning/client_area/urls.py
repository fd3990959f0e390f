"""The client area's URLs under /services/; every one but the list takes the customer's own
service id."""

from django.urls import path

from provisioning.client_area import api, views

app_name = "client_area"

urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("<int:pk>/", views.service_detail, name="service_detail"),
    path("<int:pk>/status.json", views.service_status, name="service_status"),
    path("<int:pk>/traffic/", views.service_traffic, name="service_traffic"),
    path("<int:pk>/usage-alert/", views.service_usage_alert, name="service_usage_alert"),
    path(
        "<int:pk>/config/<slug:protocol>.<slug:ext>",
        views.service_config,
        name="service_config",
    ),
    path("<int:pk>/otl/", views.service_otl, name="service_otl"),
    path("<int:pk>/connection.json", api.connection_status, name="service_connection"),
    path("<int:pk>/traffic.json", api.traffic_json, name="service_traffic_json"),
]
