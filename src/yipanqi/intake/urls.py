from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.document_list, name="documents"),
    path("new/", views.document_new, name="document-new"),
    path("<int:pk>/", views.document_review, name="review"),
    path("<int:pk>/agencies/", views.agency_options, name="agency-options"),
    path("<int:pk>/node/", views.node_forms, name="node-forms"),
    path("<int:pk>/edit/<slug:op>/", views.review_edit, name="edit"),
    path("<int:pk>/commit/", views.document_commit, name="commit"),
    path("<int:pk>/discard/", views.document_discard, name="discard"),
    path("<int:pk>/result/", views.document_result, name="result"),
    path("batches/new/", views.batch_new, name="batch-new"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/progress/", views.batch_progress, name="batch-progress"),
]
