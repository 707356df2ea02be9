from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("meeting-series", views.SeriesViewSet, basename="meetingseries")
router.register("meetings", views.MeetingViewSet, basename="meeting")
router.register("meeting-topics", views.TopicViewSet, basename="meetingtopic")
router.register("meeting-decisions", views.DecisionViewSet, basename="meetingdecision")

urlpatterns = router.urls
