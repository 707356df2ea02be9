from django.urls import path

from . import calendar_views, views

app_name = "meetings"

urlpatterns = [
    path("", views.series_list, name="series-list"),
    path("series/new/", views.series_new, name="series-new"),
    path("series/<int:pk>/", views.series_detail, name="series"),
    path("series/<int:pk>/edit/", views.series_edit, name="series-edit"),
    path("series/<int:pk>/schedule/", views.meeting_new, name="meeting-new"),
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("calendar.ics", calendar_views.calendar_ics, name="calendar-ics"),
    path("<int:pk>/", views.meeting_detail, name="meeting"),
    path("<int:pk>/source/", views.meeting_source, name="meeting-source"),
    path("<int:pk>/edit/", views.meeting_edit, name="meeting-edit"),
    path("<int:pk>/step/<slug:step>/", views.meeting_step, name="step"),
    path("<int:pk>/meeting.ics", calendar_views.meeting_ics, name="meeting-ics"),
    path("<int:pk>/topics/new/", views.topic_new, name="topic-new"),
    path("<int:pk>/topics/order/", views.topic_order, name="topic-order"),
    path("topics/<int:pk>/edit/", views.topic_edit, name="topic-edit"),
    path("topics/<int:pk>/withdraw/", views.topic_withdraw, name="topic-withdraw"),
    path("topics/<int:pk>/outcome/", views.topic_outcome, name="topic-outcome"),
    path("topics/<int:pk>/decisions/new/", views.decision_new, name="decision-new"),
    path("decisions/<int:pk>/edit/", views.decision_edit, name="decision-edit"),
    path("decisions/<int:pk>/delete/", views.decision_delete, name="decision-delete"),
    path("<int:pk>/minutes/", views.minutes_edit, name="minutes"),
    path("<int:pk>/minutes/draft/", views.minutes_draft, name="minutes-draft"),
    path("<int:pk>/minutes/submit/", views.minutes_submit, name="minutes-submit"),
    path("<int:pk>/minutes/approve/", views.minutes_approve, name="minutes-approve"),
    path("<int:pk>/minutes/return/", views.minutes_return, name="minutes-return"),
    path("<int:pk>/minutes.<str:fmt>", calendar_views.minutes_download, name="minutes-download"),
]
