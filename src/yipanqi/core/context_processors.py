"""Navigation context: the signed-in person's agency, roles and the circles they can open."""

from __future__ import annotations


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def circles():
        from yipanqi.directory.models import Circle

        return list(Circle.objects.visible_to(user).only("id", "name", "short_name"))

    return {
        "nav_agency": getattr(user, "agency", None),
        "nav_circles": circles,
        "nav_is_admin": getattr(user, "is_platform_admin", False),
        "nav_is_coordinator": bool(getattr(user, "coordinated_circle_ids", None)),
    }
