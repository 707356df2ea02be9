from django.urls import path

from . import views

app_name = "assistance"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("escalated/", views.escalated, name="escalated"),
    path("export.xlsx", views.export, name="export"),
    path("sign/", views.bulk_sign, name="bulk-sign"),
    path("new/", views.request_new, name="request-new"),
    path("analytics/", views.analytics, name="analytics"),
    path("<int:pk>/", views.request_detail, name="request"),
    path("<int:pk>/edit/", views.request_edit, name="request-edit"),
    path("<int:pk>/step/<slug:step>/", views.request_step, name="step"),
    path("<int:pk>/messages/", views.message_new, name="message-new"),
    path("<int:pk>/attachments/", views.attachment_new, name="attachment-new"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("receipts/<int:pk>.<str:fmt>", views.receipt_download, name="receipt"),
]
