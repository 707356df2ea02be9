"""The evidence API, included under /api/v1/evidence/ in yipanqi/urls.py (its own prefix, first: a request for a
proof is resolved without trying the other apps' patterns, a tenth of its time)."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("deposits", views.DepositViewSet, basename="evidence-deposit")

SIZE = r"(?P<size>[0-9]{1,20})"

urlpatterns = [
    *router.urls,
    path("lookup/", views.LookupView.as_view(), name="evidence-lookup"),
    path("lookup/receipt/", views.LookupReceiptView.as_view(), name="evidence-lookup-receipt"),
    re_path(r"^checkpoint/?$", views.CheckpointView.as_view(), name="evidence-checkpoint"),
    re_path(rf"^checkpoints/{SIZE}/?$", views.CheckpointView.as_view(), name="evidence-checkpoint-size"),
    re_path(
        rf"^checkpoints/{SIZE}/cosignatures/$",
        views.CheckpointCosignaturesView.as_view(),
        name="evidence-checkpoint-cosignatures",
    ),
    path("proofs/inclusion/", views.InclusionProofView.as_view(), name="evidence-inclusion-proof"),
    path("proofs/consistency/", views.ConsistencyProofView.as_view(), name="evidence-consistency-proof"),
    path("cosignatures/", views.CosignatureView.as_view(), name="evidence-cosignatures"),
]
