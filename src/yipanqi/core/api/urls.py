from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("audit-events", views.AuditEventViewSet, basename="auditevent")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
