from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("regions", views.RegionViewSet, basename="region")
router.register("circles", views.CircleViewSet, basename="circle")
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("people", views.PersonViewSet, basename="person")
router.register("api-keys", views.ApiKeyViewSet, basename="apikey")

urlpatterns = router.urls
