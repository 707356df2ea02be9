from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("", views.agreement_list, name="agreements"),
    path("my/", views.my_measures, name="my"),
    path("agreements/new/", views.agreement_new, name="agreement-new"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/measures/new/", views.measure_new, name="measure-new"),
    path("measures/<int:pk>/", views.measure_detail, name="measure"),
    path("measures/<int:pk>/owners/new/", views.owner_new, name="owner-new"),
    path("measures/<int:pk>/confirm-closure/", views.confirm_closure, name="confirm-closure"),
    path("shares/<int:pk>/report/", views.share_report, name="report"),
    path("shares/<int:pk>/close/", views.share_close, name="share-close"),
    path("shares/<int:pk>/supervise/", views.share_supervise, name="supervise"),
    path("supervisions/<int:pk>/reply/", views.supervision_reply, name="supervision-reply"),
    path("supervisions/<int:pk>/close/", views.supervision_close, name="supervision-close"),
]
