"""Fixture for bench_agencies_api: migrate, then bulk-load regions, AGENCIES agencies and USERS users.

Run by the benchmark in a subprocess with DATABASE_URL pointing at its throwaway PostgreSQL cluster; prints
one JSON line: the API key of the benchmark principal and the row counts. Fixture data goes in with bulk
inserts (not services, so no audit events) because only its shape matters: it is thrown away afterwards.
"""

from __future__ import annotations

import json
import os
import random
import sys

AGENCIES = 5_000
USERS = 50_000
CIRCLE_PROVINCES = ("500000", "510000")  # 成渝: 重庆, 四川
PRINCIPAL_REGION = "510100"  # 成都市


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import translation

    from yipanqi.directory.models import Agency, AgencyType, Circle, Region, Role, RoleGrant, User
    from yipanqi.directory.services import issue_api_key, load_regions

    if settings.DEBUG:
        sys.exit("fixture_agencies: DEBUG must be off for a benchmark (set DEBUG=0)")
    call_command("migrate", verbosity=0)
    load_regions()
    rng = random.Random(2026)
    regions = list(Region.objects.order_by("code"))
    types = [t.value for t in AgencyType]
    with translation.override("zh-hans"):
        labels = {value: str(label) for value, label in AgencyType.choices}
    with transaction.atomic():
        # Every region gets at least one agency; types cycle so each type has hundreds of rows.
        picks = regions + rng.choices(regions, k=AGENCIES - len(regions))
        agencies = [
            Agency(
                name=f"{region.name}{labels[types[i % len(types)]]}{i}",
                type=types[i % len(types)],
                level=region.level,
                region=region,
                rank=i % 3,
                is_standard=True,
            )
            for i, region in enumerate(picks)
        ]
        Agency.objects.bulk_create(agencies, batch_size=2000)
        circle = Circle.objects.create(name="成渝地区双城经济圈", short_name="成渝", slug="chengyu")
        circle.regions.set(Region.objects.filter(code__in=CIRCLE_PROVINCES))
        principal_agency = next(a for a in agencies if a.region.code == PRINCIPAL_REGION)
        circle.coordinating_agency = principal_agency
        circle.save(update_fields=["coordinating_agency"])
        password = make_password("yipanqi-bench-password")
        users = [
            User(username=f"user{i:05d}", full_name=f"人员{i}", password=password, agency=agencies[i % AGENCIES])
            for i in range(USERS)
        ]
        User.objects.bulk_create(users, batch_size=5000)
        grants = [RoleGrant(user=u, role=Role.LIAISON) for u in users[::10]]
        grants += [RoleGrant(user=u, role=Role.HANDLER) for u in users[1::3]]
        grants.append(RoleGrant(user=users[0], role=Role.COORDINATOR, circle=circle))
        RoleGrant.objects.bulk_create(grants, batch_size=5000)
        if circle.pk not in Circle.objects.containing_agency(principal_agency).values_list("pk", flat=True):
            sys.exit("fixture_agencies: the benchmark principal must be a member of the circle")
        issued = issue_api_key(acting_user=None, agency=principal_agency, name="benchmark", scopes=["directory:read"])
    with connection.cursor() as cursor:  # statistics now, so autovacuum does not analyse during the measurement
        cursor.execute("VACUUM ANALYZE")
    print(
        json.dumps(
            {
                "token": issued.token,
                "agencies": Agency.objects.count(),
                "users": User.objects.count(),
                "regions": len(regions),
                "principal_agency": principal_agency.name,
            }
        )
    )


if __name__ == "__main__":
    main()
