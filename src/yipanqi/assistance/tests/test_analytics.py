"""Analytics of a circle's requests: the figures over a small set built here step by step at known moments (by kind,
the province matrix, on-time rates, medians per stage, returns), who sees what, and a page of constant queries.

The set (成渝, March 2026; 四川高院 = owner, 重庆高院 = partner, 成都中院 = cd_court):

    A 委托执行 川→渝  sent Mon 09:00, signed 11:00, accepted Tue 11:00, answered +9 days, closed  (all on time)
    B 委托执行 渝→川  sent Mon 09:00, signed Thu 10:00 (late), accepted 12:00, at work
    C 事项委托 川→渝  returned "材料不全"        D 事项委托 川→渝  returned "材料不全"
    E 事项委托 渝→川  returned "不属于本院管辖"  F a draft of 四川高院 (never counted)
    G 取证协作 川→渝  urgent: signed after 1 h, accepted 1 h later, answered after 80 h (the clock is 72 h: late)
    H 事项委托 成都中院→四川高院, sent the day the figures are read
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import translation

from yipanqi.assistance import services
from yipanqi.assistance.analytics import (
    Filters,
    analytics_page,
    by_kind,
    humanise,
    on_time,
    overview,
    region_pairs,
    requests_in,
    returns,
    stage_medians,
)
from yipanqi.assistance.models import RequestKind, Urgency
from yipanqi.assistance.tests.conftest import EXECUTION_FIELDS, draft_execution, pdf
from yipanqi.directory.models import Agency, Circle, User
from yipanqi.urls import urlpatterns as project_urls

URL = "/assistance-analytics-under-test/"
urlpatterns = [path(URL.strip("/") + "/", analytics_page), *project_urls]  # until views.analytics calls the page
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
READ_AT = datetime.datetime(2026, 3, 12, 12, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cd_court(db):
    return User.objects.select_related("agency").get(username="cd_court")


def _matter(user, sender, receiver, title):
    kind = RequestKind.objects.get(code="court_matter")
    request = services.create_request(
        acting_user=user,
        kind=kind,
        sender=sender,
        receiver=receiver,
        title=title,
        fields={"matter": "送达", "details": "向受送达人送达起诉状副本及开庭传票。"},
    )
    services.attach(acting_user=user, request=request, uploaded=pdf("委托函.pdf"), label="委托函")
    return services.send(acting_user=user, request=request)


def _evidence(user, sender, receiver):
    kind = RequestKind.objects.get(code="evidence")
    request = services.create_request(
        acting_user=user,
        kind=kind,
        sender=sender,
        receiver=receiver,
        title="关于协助调取购销合同的函",
        urgency=Urgency.URGENT,
        fields={"target": "重庆某物流有限公司", "matters": "调取2025年度购销合同复印件。"},
    )
    return services.send(acting_user=user, request=request)


def _execution_back(partner, courts, kind):
    """A 委托执行 from 重庆高院 to 四川高院."""
    sichuan, chongqing = courts
    request = services.create_request(
        acting_user=partner,
        kind=kind,
        sender=chongqing,
        receiver=sichuan,
        title="委托执行：成都某商贸有限公司",
        fields=dict(EXECUTION_FIELDS),
    )
    for label in kind.required_attachments:
        services.attach(acting_user=partner, request=request, uploaded=pdf(f"{label}.pdf"), label=label)
    return services.send(acting_user=partner, request=request)


@pytest.fixture
def cases(owner, partner, cd_court, courts, kind):
    """The set of the module docstring; the clock is left at ``READ_AT``."""
    sichuan, chongqing = courts
    made = {}
    with time_machine.travel(at(2, 9), tick=False) as clock:
        made["A"] = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
        made["B"] = _execution_back(partner, courts, kind)
        made["C"] = _matter(owner, sichuan, chongqing, "关于委托送达的函（张某）")
        made["D"] = _matter(owner, sichuan, chongqing, "关于委托送达的函（李某）")
        made["E"] = _matter(partner, chongqing, sichuan, "关于委托调查的函（王某）")
        made["F"] = draft_execution(owner, courts, kind)
        made["G"] = _evidence(owner, sichuan, chongqing)
        clock.move_to(at(2, 10))
        services.sign(acting_user=partner, request=made["G"])
        clock.move_to(at(2, 11))
        services.sign(acting_user=partner, request=made["A"])
        services.accept(acting_user=partner, request=made["G"])
        clock.move_to(at(2, 15))
        services.return_request(acting_user=partner, request=made["C"], reason="材料不全")
        services.return_request(acting_user=owner, request=made["E"], reason="不属于本院管辖")
        clock.move_to(at(2, 16))
        services.return_request(acting_user=partner, request=made["D"], reason=" 材料不全 ")
        clock.move_to(at(3, 11))
        services.accept(acting_user=partner, request=made["A"])
        clock.move_to(at(5, 10))
        services.sign(acting_user=owner, request=made["B"])
        clock.move_to(at(5, 12))
        services.accept(acting_user=owner, request=made["B"])
        clock.move_to(at(5, 19))
        services.answer(acting_user=partner, request=made["G"], result="已调取，随函移送。")
        clock.move_to(at(12, 11))
        services.answer(acting_user=partner, request=made["A"], result="已执行完毕。")
        clock.move_to(at(12, 11, 30))
        services.close(acting_user=owner, request=made["A"])
        clock.move_to(at(12, 10))
        made["H"] = _matter(cd_court, cd_court.agency, sichuan, "关于委托保全的函（赵某）")
    return made


def _scope(user, circle, **filters):
    return requests_in(user, Filters(circle=circle, **filters))


# --------------------------------------------------------------------------- the figures


def test_figures_of_the_known_set(cases, coordinator, chengyu):
    queryset = _scope(coordinator, chengyu)
    figures = overview(queryset, READ_AT)
    assert figures["total"] == 7  # the draft F is not counted
    assert (figures["open"], figures["finished"], figures["returned"], figures["overdue"]) == (2, 2, 3, 0)
    assert (figures["urgent"], figures["withdrawn"], figures["escalated"]) == (1, 0, 0)
    # Signed: A, G on time, B late; accepted: A, B, G on time; finished: A on time, G late.
    assert (figures["sign_on_time"], figures["sign_late"], figures["sign_rate"]) == (2, 1, 67)
    assert (figures["accept_on_time"], figures["accept_late"], figures["accept_rate"]) == (3, 0, 100)
    assert (figures["finish_on_time"], figures["finish_late"], figures["finish_rate"]) == (1, 1, 50)

    kinds = {row["name"]: row for row in by_kind(queryset)}
    assert list(kinds) == ["取证协作", "委托执行", "事项委托（调查/送达/保全）"]  # in the kinds' order
    assert {k: v for k, v in kinds["委托执行"].items() if k not in ("kind_id", "name")} == {
        "total": 2,
        "open": 1,
        "finished": 1,
        "returned": 0,
        "withdrawn": 0,
    }
    assert (kinds["事项委托（调查/送达/保全）"]["total"], kinds["事项委托（调查/送达/保全）"]["returned"]) == (4, 3)
    assert (kinds["取证协作"]["total"], kinds["取证协作"]["finished"]) == (1, 1)

    pairs = region_pairs(queryset)
    matrix = pairs.matrix()
    assert [p.name for p in matrix["columns"]] == ["重庆市", "四川省"]
    assert [(row["province"].name, row["cells"], row["total"]) for row in matrix["rows"]] == [
        ("重庆市", [0, 2], 2),
        ("四川省", [4, 1], 5),
    ]
    assert (matrix["totals"], matrix["total"]) == ([4, 3], 7)
    largest = pairs.pairs[0]
    assert (largest[0].name, largest[1].name, largest[2]) == ("四川省", "重庆市", 4)  # the largest flow first

    agencies = {row["name"]: row for row in on_time(queryset, READ_AT)}
    chongqing, sichuan = agencies["重庆市高级人民法院"], agencies["四川省高级人民法院"]
    assert (chongqing["received"], chongqing["sign_rate"], chongqing["accept_rate"], chongqing["finish_rate"]) == (
        4,
        100,
        100,
        50,
    )
    assert (sichuan["received"], sichuan["sign_rate"], sichuan["accept_rate"], sichuan["finish_rate"]) == (
        3,
        0,  # B signed late; H is still within its clock
        100,
        None,  # B is at work within its six months: nothing judged yet
    )
    assert list(agencies) == ["重庆市高级人民法院", "四川省高级人民法院"]  # most requests first

    medians = stage_medians(queryset)["overall"]
    assert medians["send_sign"] == datetime.timedelta(hours=2)  # 1 h (G), 2 h (A), 73 h (B)
    assert medians["sign_accept"] == datetime.timedelta(hours=2)  # 1 h (G), 2 h (B), 24 h (A)
    assert medians["accept_answer"] == datetime.timedelta(hours=148)  # between 80 h (G) and 216 h (A)
    by_kind_medians = stage_medians(queryset)["by_kind"]
    execution = RequestKind.objects.get(code="entrusted_execution").pk
    assert by_kind_medians[execution]["accept_answer"] == datetime.timedelta(days=9)
    with translation.override("en"):
        assert [humanise(medians[key]) for key in ("send_sign", "accept_answer")] == ["2.0 h", "6.2 d"]

    returned = returns(queryset)
    assert (returned["total"], returned["requests"]) == (3, 3)
    assert returned["reasons"] == [{"reason": "材料不全", "n": 2}, {"reason": "不属于本院管辖", "n": 1}]


def test_later_figures_judge_open_clocks_and_the_period(cases, coordinator, chengyu):
    """Three months on: H was never signed (late), B is still within its six months; the last 30 days hold nothing."""
    later = at(12, 12) + datetime.timedelta(days=90)
    queryset = _scope(coordinator, chengyu)
    figures = overview(queryset, later)
    assert (figures["sign_late"], figures["overdue"]) == (2, 1)  # B signed late, H unsigned past its clock
    assert _scope(coordinator, chengyu, since=later - datetime.timedelta(days=30)).count() == 0
    kind = RequestKind.objects.get(code="court_matter")
    assert overview(_scope(coordinator, chengyu, kind=kind), later)["total"] == 4


def test_a_resent_request_counts_each_return(cases, owner, partner, coordinator, chengyu):
    with time_machine.travel(at(13, 9), tick=False):
        resent = services.send(acting_user=owner, request=cases["C"])
        services.return_request(acting_user=partner, request=resent, reason="材料不全")
    returned = returns(_scope(coordinator, chengyu))
    assert (returned["total"], returned["requests"]) == (4, 3)
    assert returned["reasons"][0] == {"reason": "材料不全", "n": 3}


# --------------------------------------------------------------------------- who sees what


def _page(web, user, **params):
    return web(user).get(URL, params)


def test_the_coordinator_sees_the_whole_circle(cases, web, coordinator, chengyu):
    with time_machine.travel(READ_AT, tick=False):
        response = _page(web, coordinator)
    assert response.status_code == 200
    context = response.context
    assert context["filters"].circle == chengyu  # the circle they coordinate, without asking
    assert context["whole_circle"] is True
    assert context["figures"]["total"] == 7
    html = response.content.decode()
    assert 'id="figure-total">7<' in html
    assert 'id="analytics-matrix-total">7<' in html
    assert 'data-chart="sankey"' in html and 'id="chart-assistance-routes"' in html
    assert "<script>" not in html  # no inline script (CSP): the charts' data is json_script
    assert "材料不全" in html and "6.2" in html


def test_members_see_only_what_is_visible_to_them(cases, web, owner, cd_court, chengyu):
    with time_machine.travel(READ_AT, tick=False):
        as_owner = _page(web, owner)
        as_handler = _page(web, cd_court)
    assert as_owner.context["whole_circle"] is False
    assert as_owner.context["figures"]["total"] == 7  # 四川高院 sent or received each of them
    assert 'id="analytics-partial"' in as_owner.content.decode()
    # A case handler of 成都中院 sees what they wrote: H.
    assert as_handler.context["filters"].circle == chengyu
    assert as_handler.context["figures"]["total"] == 1
    assert [row["name"] for row in as_handler.context["agencies"]] == ["四川省高级人民法院"]


def test_an_outsider_has_no_circle_and_a_circle_of_others_is_404(cases, web, outsider, chengyu):
    with time_machine.travel(READ_AT, tick=False):
        response = _page(web, outsider)
        assert response.status_code == 200
        assert "figures" not in response.context and response.context["has_circles"] is False
        assert 'id="analytics-no-circle"' in response.content.decode()
        assert _page(web, outsider, circle=chengyu.pk).status_code == 404
        shanghai = User.objects.get(username="sh_procurator")
        assert _page(web, shanghai, circle=chengyu.pk).status_code == 404  # 长三角 only
        assert _page(web, shanghai, circle="999999").status_code == 404
        assert web(None).get(URL).status_code == 302  # to the login page


def test_bad_filters_are_form_errors_without_scope(cases, web, coordinator, chengyu):
    with time_machine.travel(READ_AT, tick=False):
        response = _page(web, coordinator, circle=chengyu.pk, period="forever", kind="nope")
    assert response.status_code == 200
    assert "figures" not in response.context
    assert set(response.context["form"].errors) == {"period", "kind"}
    assert 'id="analytics-errors"' in response.content.decode()


def test_filters_by_kind_and_period(cases, web, coordinator, chengyu):
    kind = RequestKind.objects.get(code="court_matter")
    with time_machine.travel(READ_AT, tick=False):
        by_kind_page = _page(web, coordinator, circle=chengyu.pk, kind=kind.pk, period="all")
    assert by_kind_page.context["figures"]["total"] == 4
    with time_machine.travel(READ_AT + datetime.timedelta(days=60), tick=False):
        recent = _page(web, coordinator, circle=chengyu.pk, period="30")
        ever = _page(web, coordinator, circle=chengyu.pk, period="all")
    assert recent.context["figures"]["total"] == 0
    assert ever.context["figures"]["total"] == 7


# --------------------------------------------------------------------------- constant queries


def _count(fn) -> int:
    from django.core.cache import cache

    from yipanqi.core.versioning import forget_local_versions

    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_queries_for_more_requests(cases, web, coordinator, owner, partner, courts, chengyu):
    coordinator_client, owner_client = web(coordinator), web(owner)

    def pages():
        for client in (coordinator_client, owner_client):
            assert client.get(URL, {"circle": chengyu.pk, "period": "all"}).status_code == 200

    with time_machine.travel(READ_AT, tick=False):
        small = _count(pages)
    sichuan, chongqing = courts
    with time_machine.travel(at(13, 9), tick=False):  # more kinds, pairs, returns and reasons
        for title in ("关于委托调查的函（钱某）", "关于委托送达的函（孙某）", "关于委托保全的函（周某）"):
            request = _matter(partner, chongqing, sichuan, title)
            services.return_request(acting_user=owner, request=request, reason=f"请补充{title[-3:-1]}的联系方式")
        jiangbei = Agency.objects.get(name="重庆市第一中级人民法院")
        _evidence(owner, sichuan, jiangbei)
        _evidence(partner, chongqing, sichuan)
    with time_machine.travel(READ_AT + datetime.timedelta(days=1), tick=False):
        large = _count(pages)
        total = coordinator_client.get(URL, {"circle": chengyu.pk, "period": "all"}).context["figures"]["total"]
    assert total == 12
    assert small == large, (small, large)
    print(f"analytics page queries (coordinator + member): {small}")


def test_every_circle_offered_is_one_the_viewer_may_open(cases, web, coordinator, owner):
    with time_machine.travel(READ_AT, tick=False):
        response = _page(web, owner)
    offered = {value for value, _label in response.context["form"].fields["circle"].choices}
    assert offered == set(Circle.objects.visible_to(owner).values_list("pk", flat=True))
