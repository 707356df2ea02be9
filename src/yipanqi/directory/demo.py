"""Demo data: three real cooperation circles and a river-basin circle, extra agencies, departments and users.

Agency names are public facts; nothing here copies article text. Running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from . import services
from .models import Agency, AgencyType, Circle, Department, Region, Role, User

DEMO_PASSWORD = "yipanqi-demo"  # noqa: S105 - published demo credential, development mode only

CIRCLES = [
    {
        "slug": "chengyu",
        "name": "成渝地区双城经济圈",
        "short_name": "成渝",
        "regions": ["510000", "500000"],
        "coordinating_agency": "中共四川省委政法委员会",
        "description": "川渝两地政法机关执法司法协作。",
    },
    {
        "slug": "yangtze-delta",
        "name": "长江三角洲区域",
        "short_name": "长三角",
        "regions": ["310000", "320000", "330000", "340000"],
        "coordinating_agency": "中共上海市委政法委员会",
        "description": "沪苏浙皖政法机关一体化协作。",
    },
    {
        "slug": "jingjinji",
        "name": "京津冀协同发展",
        "short_name": "京津冀",
        "regions": ["110000", "120000", "130000"],
        "coordinating_agency": "中共北京市委政法委员会",
        "description": "京津冀政法机关协同。",
    },
    {
        "slug": "jialing-river",
        "name": "嘉陵江流域检察协作",
        "short_name": "嘉陵江",
        "regions": ["610700", "621200", "510800", "511300", "511600"],
        "members": ["重庆市人民检察院第一分院"],
        "coordinating_agency": "四川省人民检察院",
        "description": "流域五市检察机关与重庆检察一分院的生态环境公益诉讼协作。",
    },
]

# Provincial agencies of every type for the demo provinces, beyond the generated standard ones.
EXTRA_PROVINCES = ["510000", "500000", "310000", "320000", "330000", "340000", "110000", "120000", "130000", "230000"]
EXTRA_TYPES = [
    (AgencyType.PRISON_ADMINISTRATION, "{p}监狱管理局"),
    (AgencyType.DRUG_REHABILITATION, "{p}戒毒管理局"),
    (AgencyType.LAWYERS_ASSOCIATION, "{p}律师协会"),
    (AgencyType.NOTARIES_ASSOCIATION, "{p}公证协会"),
    (AgencyType.FORENSIC_ASSOCIATION, "{p}司法鉴定协会"),
    (AgencyType.MEDIATION, "{p}人民调解员协会"),
]
ARBITRATION = {
    "510100": "成都仲裁委员会",
    "500000": "重庆仲裁委员会",
    "310000": "上海仲裁委员会",
    "320100": "南京仲裁委员会",
    "330100": "杭州仲裁委员会",
    "340100": "合肥仲裁委员会",
    "110000": "北京仲裁委员会",
    "120000": "天津仲裁委员会",
    "130100": "石家庄仲裁委员会",
    "230100": "哈尔滨仲裁委员会",
}

DEPARTMENTS = {
    "四川省高级人民法院": ["立案庭", "执行局", "民事审判第一庭", "研究室"],
    "重庆市高级人民法院": ["立案庭", "执行局", "民事审判第一庭", "研究室"],
    "成都市中级人民法院": ["立案庭", "执行局"],
    "上海市人民检察院": ["第一检察部", "第八检察部（公益诉讼）", "案件管理办公室"],
    "中共四川省委政法委员会": ["执法监督处", "协调处"],
    "黑龙江省公安厅": ["刑事侦查总队"],
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    agency: str
    role_label: str
    roles: tuple[str, ...] = ()
    coordinates: tuple[str, ...] = ()
    department: str | None = None
    superuser: bool = False


USERS = [
    DemoUser("admin", "平台管理员", "中共四川省委政法委员会", "平台管理员", superuser=True),
    DemoUser(
        "chengyu_coord",
        "王协调",
        "中共四川省委政法委员会",
        "成渝协调办",
        (Role.LIAISON,),
        ("chengyu",),
        department="协调处",
    ),
    DemoUser(
        "sc_court", "李联络", "四川省高级人民法院", "四川高院联络员", (Role.LIAISON, Role.HANDLER), department="研究室"
    ),
    DemoUser("cd_court", "赵承办", "成都市中级人民法院", "成都中院承办人", (Role.HANDLER,), department="执行局"),
    DemoUser(
        "cq_court", "陈联络", "重庆市高级人民法院", "重庆高院联络员", (Role.LIAISON, Role.HANDLER), department="研究室"
    ),
    DemoUser(
        "sh_procurator",
        "周承办",
        "上海市人民检察院",
        "上海检察院承办人",
        (Role.HANDLER,),
        department="第八检察部（公益诉讼）",
    ),
    DemoUser("yrd_coord", "吴协调", "中共上海市委政法委员会", "长三角协调办", (Role.LIAISON,), ("yangtze-delta",)),
    DemoUser("jjj_coord", "郑协调", "中共北京市委政法委员会", "京津冀协调办", (Role.LIAISON,), ("jingjinji",)),
    DemoUser(
        "hlj_police", "孙局外", "黑龙江省公安厅", "黑龙江公安（协作区之外）", (Role.LIAISON,), department="刑事侦查总队"
    ),
]


def _agency(name: str) -> Agency:
    return Agency.objects.get(name=name)


@transaction.atomic
def load_demo(stdout=None) -> list[DemoUser]:
    def say(msg):
        if stdout:
            stdout.write(msg)

    report = services.load_directory()
    say(str(report))
    regions = {r.code: r for r in Region.objects.filter(code__in=EXTRA_PROVINCES + list(ARBITRATION))}
    for code in EXTRA_PROVINCES:
        region = regions[code]
        for agency_type, pattern in EXTRA_TYPES:
            name = pattern.format(p=region.name)
            if not Agency.objects.filter(region=region, name=name).exists():
                services.create_agency(acting_user=None, name=name, type=agency_type, level="province", region=region)
    for code, name in ARBITRATION.items():
        region = regions[code]
        if not Agency.objects.filter(region=region, name=name).exists():
            services.create_agency(
                acting_user=None, name=name, type=AgencyType.ARBITRATION_COMMISSION, level=region.level, region=region
            )
    for agency_name, names in DEPARTMENTS.items():
        agency = _agency(agency_name)
        for name in names:
            if not Department.objects.filter(agency=agency, name=name).exists():
                services.add_department(acting_user=None, agency=agency, name=name)
    for spec in CIRCLES:
        circle = Circle.objects.filter(slug=spec["slug"]).first()
        if circle is None:
            services.create_circle(
                acting_user=None,
                name=spec["name"],
                slug=spec["slug"],
                short_name=spec["short_name"],
                description=spec["description"],
                regions=Region.objects.filter(code__in=spec["regions"]),
                member_agencies=Agency.objects.filter(name__in=spec.get("members", [])),
                coordinating_agency=_agency(spec["coordinating_agency"]),
            )
    for demo in USERS:
        if User.objects.filter(username=demo.username).exists():
            continue
        agency = _agency(demo.agency)
        user = services.create_user(
            acting_user=None,
            username=demo.username,
            password=DEMO_PASSWORD,
            full_name=demo.full_name,
            agency=agency,
            department=Department.objects.filter(agency=agency, name=demo.department).first(),
            roles=demo.roles,
            coordinated_circles=list(Circle.objects.filter(slug__in=demo.coordinates)),
            title=demo.role_label,
        )
        if demo.superuser:
            services.make_platform_admin(acting_user=None, user=user)
    return USERS
