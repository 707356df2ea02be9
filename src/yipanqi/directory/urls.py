from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("regions/", views.region_tree, name="regions"),
    path("regions/<str:code>/", views.region_tree, name="region"),
    path("circles/", views.circle_list, name="circles"),
    path("circles/<slug:slug>/", views.circle_detail, name="circle"),
    path("agencies/", views.agency_list, name="agencies"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency"),
    path("people/", views.people_list, name="people"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]
