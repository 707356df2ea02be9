from django.urls import path

from . import board_views, bulletin_views, views

app_name = "ledger"

urlpatterns = [
    path("", views.agreement_list, name="agreements"),
    path("my/", views.my_measures, name="my"),
    path("board/", board_views.board, name="board"),
    path("agreements/new/", views.agreement_new, name="agreement-new"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/source/", views.agreement_source, name="agreement-source"),
    path("agreements/<int:pk>/measures/new/", views.measure_new, name="measure-new"),
    path("measures/<int:pk>/", views.measure_detail, name="measure"),
    path("measures/<int:pk>/owners/new/", views.owner_new, name="owner-new"),
    path("measures/<int:pk>/confirm-closure/", views.confirm_closure, name="confirm-closure"),
    path("shares/<int:pk>/report/", views.share_report, name="report"),
    path("shares/<int:pk>/close/", views.share_close, name="share-close"),
    path("shares/<int:pk>/supervise/", views.share_supervise, name="supervise"),
    path("supervisions/<int:pk>/reply/", views.supervision_reply, name="supervision-reply"),
    path("supervisions/<int:pk>/close/", views.supervision_close, name="supervision-close"),
    path("bulletins/", bulletin_views.bulletin_list, name="bulletins"),
    path("bulletins/new/", bulletin_views.bulletin_new, name="bulletin-new"),
    path("bulletins/<int:pk>/", bulletin_views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:pk>/status/", bulletin_views.bulletin_status, name="bulletin-status"),
    path("bulletins/<int:pk>/rerender/", bulletin_views.bulletin_rerender, name="bulletin-rerender"),
    path("bulletins/<int:pk>/<str:fmt>/", bulletin_views.bulletin_download, name="bulletin-download"),
    path("bulletins/schedules/new/", bulletin_views.schedule_new, name="schedule-new"),
    path("bulletins/schedules/<int:pk>/stop/", bulletin_views.schedule_stop, name="schedule-stop"),
]
