from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("", views.check, name="check"),
    path("deposit/", views.deposit_new, name="deposit-new"),
    path("deposits/", views.deposit_list, name="deposits"),
    path("deposits/<int:index>/", views.deposit_detail, name="deposit"),
    path("deposits/<int:index>/receipt.<str:fmt>", views.receipt_download, name="receipt"),
    path("lookup/receipt.<str:fmt>", views.lookup_receipt, name="lookup-receipt"),
    path("log/", views.log, name="log"),
    path("checkpoint", views.checkpoint_text, name="checkpoint"),
]
