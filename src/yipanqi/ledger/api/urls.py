from django.urls import path
from rest_framework.routers import DefaultRouter

from . import excel, views

router = DefaultRouter(trailing_slash=True)
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("measures", views.MeasureViewSet, basename="measure")
router.register("progress-reports", views.ProgressReportViewSet, basename="progressreport")
router.register("supervisions", views.SupervisionViewSet, basename="supervision")
router.register("bulletins", views.BulletinViewSet, basename="bulletin")

urlpatterns = [
    path("ledger/excel-template/", excel.ExcelTemplateView.as_view(), name="ledger-excel-template"),
    path("agreements/<int:pk>/export.xlsx", excel.AgreementExportView.as_view(), name="agreement-export-xlsx"),
    path("agreements/<int:pk>/import/", excel.AgreementImportView.as_view(), name="agreement-import-xlsx"),
    *router.urls,
]
