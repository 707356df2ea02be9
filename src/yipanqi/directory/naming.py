"""National naming conventions for the standard 政法 agencies of a region.

Given a region and its ancestors, ``standard_agency_specs`` yields the agencies every region of that level has:
the 政法委 at every level; at province level 高级人民法院, 人民检察院, 公安厅, 司法厅 (直辖市: 公安局, 司法局);
at city level 中级人民法院, 人民检察院, 公安局, 司法局; at county level 人民法院, 人民检察院, 公安局 (a city's
district: 公安分局) and 司法局. Exceptions (直辖市 branch courts, special courts …) live in
``data/agency_exceptions.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AgencySpec:
    name: str
    type: str
    level: str
    region_code: str
    parent_name: str | None = None
    rank: int = 0
    specialty: str = ""
    jurisdiction: tuple[str, ...] = field(default_factory=tuple)


def _committee(prefix: str, kind: str) -> str:
    if kind in ("自治区", "自治州"):
        return f"中共{prefix}党委政法委员会" if kind == "自治区" else f"中共{prefix}委员会政法委员会"
    if kind == "地区":
        return f"中共{prefix.removesuffix('地区')}地委政法委员会"
    if kind == "盟":
        return f"中共{prefix.removesuffix('盟')}盟委政法委员会"
    return f"中共{prefix}委政法委员会"


def province_specs(region) -> list[AgencySpec]:
    name, code = region.name, region.code
    municipality = region.kind == "直辖市"
    return [
        AgencySpec(_committee(name, region.kind), "committee", "province", code),
        AgencySpec(f"{name}高级人民法院", "court", "province", code),
        AgencySpec(f"{name}人民检察院", "procuratorate", "province", code),
        AgencySpec(f"{name}公安{'局' if municipality else '厅'}", "police", "province", code),
        AgencySpec(f"{name}司法{'局' if municipality else '厅'}", "justice", "province", code),
    ]


def city_specs(region, province) -> list[AgencySpec]:
    name, code = region.name, region.code
    parent = {s.type: s.name for s in province_specs(province)}
    return [
        AgencySpec(_committee(name, region.kind), "committee", "city", code, parent["committee"]),
        AgencySpec(f"{name}中级人民法院", "court", "city", code, parent["court"]),
        AgencySpec(f"{name}人民检察院", "procuratorate", "city", code, parent["procuratorate"]),
        AgencySpec(f"{name}公安局", "police", "city", code, parent["police"]),
        AgencySpec(f"{name}司法局", "justice", "city", code, parent["justice"]),
    ]


def county_specs(region, city, province, branch_parents: dict[str, str] | None = None) -> list[AgencySpec]:
    """A county-level region under a city (``city`` set) or directly under a province or 直辖市 (``city`` None)."""
    name, code = region.name, region.code
    is_district = region.kind == "市辖区"
    municipality = province.kind == "直辖市"
    if city is not None:
        parent = {s.type: s.name for s in city_specs(city, province)}
        court_prefix = city.name if is_district else province.name
        district_prefix = city.name if is_district else ""
        police_owner = city.name
    else:
        parent = {s.type: s.name for s in province_specs(province)}
        court_prefix = province.name
        district_prefix = province.name if municipality else ""
        police_owner = province.name
    # 直辖市 branch courts and procuratorate branches that cover this district take over as parents.
    parent.update(branch_parents or {})
    police = f"{police_owner}公安局{name}分局" if is_district else f"{district_prefix}{name}公安局"
    return [
        AgencySpec(
            _committee(f"{district_prefix}{name}", region.kind), "committee", "county", code, parent["committee"]
        ),
        AgencySpec(f"{court_prefix}{name}人民法院", "court", "county", code, parent["court"]),
        AgencySpec(f"{court_prefix}{name}人民检察院", "procuratorate", "county", code, parent["procuratorate"]),
        AgencySpec(police, "police", "county", code, parent["police"]),
        AgencySpec(f"{district_prefix}{name}司法局", "justice", "county", code, parent["justice"]),
    ]
