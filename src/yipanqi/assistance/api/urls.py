from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("request-kinds", views.RequestKindViewSet, basename="requestkind")
router.register("assistance-requests", views.RequestViewSet, basename="assistancerequest")
router.register("assistance-attachments", views.AttachmentViewSet, basename="assistanceattachment")
router.register("assistance-receipts", views.ReceiptViewSet, basename="assistancereceipt")
router.register("assistance-events", views.EventFeedViewSet, basename="assistanceevent")

urlpatterns = router.urls
