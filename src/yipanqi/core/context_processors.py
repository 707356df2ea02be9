"""Navigation context: the signed-in person's agency, roles and the circles they can open."""

from __future__ import annotations

# Which top-navigation entry a page belongs to, by URL name.
NAV_SECTIONS = {
    "dashboard": "dashboard",
    "directory:circles": "circles",
    "directory:circle": "circles",
    "directory:agencies": "agencies",
    "directory:agency": "agencies",
    "directory:regions": "regions",
    "directory:region": "regions",
    "directory:people": "people",
    "audit-list": "audit",
    "audit-object": "audit",
    "directory:api-keys": "api-keys",
    "notifications": "notifications",
}


def navigation(request):
    match = getattr(request, "resolver_match", None)
    section = NAV_SECTIONS.get(match.view_name, "") if match else ""
    if not section and match and match.namespace == "ledger":
        section = "ledger"
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_section": section}

    def circles():
        from yipanqi.directory.models import Circle

        return list(Circle.objects.visible_to(user).only("id", "name", "short_name", "slug"))

    def roles():
        from yipanqi.directory.models import Role

        labels = dict(Role.choices)
        return [labels[r] for r in Role.values if r in getattr(user, "role_set", ())]

    def can_manage_keys():
        from yipanqi.directory.models import Role

        return bool(user.agency_id) and (user.has_role(Role.LIAISON) or user.is_platform_admin)

    def menu_key() -> str:
        """What the menu bar shows depends on the person (roles, circles: directory data), the page's section and
        the language (the template adds it): base.html caches the bar under this key."""
        from .versioning import current_version

        namespace = match.namespace if match else ""
        return f"{user.pk}:{current_version('directory')}:{section}:{namespace}"

    return {
        "nav_menu_key": menu_key,
        "nav_section": section,
        "nav_agency": getattr(user, "agency", None),
        "nav_circles": circles,
        "nav_roles": roles,
        "nav_can_manage_keys": can_manage_keys,
        "nav_is_admin": getattr(user, "is_platform_admin", False),
        "nav_is_coordinator": bool(getattr(user, "coordinated_circle_ids", None)),
    }


def notifications(request):
    """``nav_unread_notifications``: the bell's count, one query, made only if the page shows the bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread():
        from .notifications import unread_count

        return unread_count(user)

    return {"nav_unread_notifications": unread}
