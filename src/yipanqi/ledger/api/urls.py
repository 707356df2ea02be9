from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("measures", views.MeasureViewSet, basename="measure")
router.register("progress-reports", views.ProgressReportViewSet, basename="progressreport")
router.register("supervisions", views.SupervisionViewSet, basename="supervision")

urlpatterns = router.urls
