"""The evidence API under /api/v1/evidence/ (included with the other apps' API URLs in yipanqi/urls.py)."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("evidence/deposits", views.DepositViewSet, basename="evidence-deposit")

SIZE = r"(?P<size>[0-9]{1,20})"

urlpatterns = [
    *router.urls,
    path("evidence/lookup/", views.LookupView.as_view(), name="evidence-lookup"),
    path("evidence/lookup/receipt/", views.LookupReceiptView.as_view(), name="evidence-lookup-receipt"),
    re_path(r"^evidence/checkpoint/?$", views.CheckpointView.as_view(), name="evidence-checkpoint"),
    re_path(rf"^evidence/checkpoints/{SIZE}/?$", views.CheckpointView.as_view(), name="evidence-checkpoint-size"),
    re_path(
        rf"^evidence/checkpoints/{SIZE}/cosignatures/$",
        views.CheckpointCosignaturesView.as_view(),
        name="evidence-checkpoint-cosignatures",
    ),
    path("evidence/proofs/inclusion/", views.InclusionProofView.as_view(), name="evidence-inclusion-proof"),
    path("evidence/proofs/consistency/", views.ConsistencyProofView.as_view(), name="evidence-consistency-proof"),
    path("evidence/cosignatures/", views.CosignatureView.as_view(), name="evidence-cosignatures"),
]
