"""The board page (一盘棋总览): who sees what, each filter, bad input, bounded queries.

Cast (see src/yipanqi/conftest.py): ``owner`` = 四川高院 liaison (leads 一、1 in the ``tree`` fixture), ``partner`` =
重庆高院 liaison (co-owns 一、1), ``coordinator`` = 成渝 coordination office, ``outsider`` = 黑龙江 police liaison.
Figures are read from the response's context (what the template shows) and checked in the HTML by ids and data
attributes, so the tests pass whether or not the new strings are translated yet.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yipanqi.directory.models import Agency, Circle, Region
from yipanqi.ledger import services
from yipanqi.ledger.board import MATRIX_PAGE, BoardFilters, build_board, take_snapshots
from yipanqi.ledger.models import MeasureCategory, OwnerRole

pytestmark = pytest.mark.django_db

URL = reverse("ledger:board")


def _get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.status_code
    return response


def _numbers(response) -> list[str]:
    """The item numbers of the matrix, as the page shows them."""
    return re.findall(r'<tr data-measure="\d+" data-number="([^"]+)"', response.content.decode())


def _cells(response, number: str) -> dict[str, str]:
    """{agency name: light} of one matrix row."""
    html = response.content.decode()
    row = re.search(rf'<tr data-measure="\d+" data-number="{re.escape(number)}".*?</tr>', html, re.S)
    assert row, number
    return dict(re.findall(r'yq-matrix-cell" data-agency="([^"]+)" data-light="([^"]*)"', row.group(0)))


def _chart(response, chart_id: str):
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', response.content.decode())
    assert match, chart_id
    return json.loads(match.group(1))


def _past(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def overdue(coordinator, tree):
    """一、1's deadline passed ten days ago: red."""
    with transaction.atomic():
        services.update_measure(acting_user=coordinator, measure=tree["leaf"], due_on=_past(10))
    return tree


# --------------------------------------------------------------------------- who sees what


def test_coordinator_sees_the_circle_by_default(web, coordinator, tree, chengyu):
    response = _get(web(coordinator))
    form = response.context["form"]
    assert form["circle"].value() == str(chengyu.pk)  # the one circle they coordinate
    board = response.context["board"]
    assert board.total == 2
    assert _numbers(response) == ["一、1", "一、2"]  # yellow (no report yet) before green
    cells = _cells(response, "一、1")
    assert set(cells) == {"四川省高级人民法院", "重庆市高级人民法院"}
    assert all(cells.values())  # both courts own a share: each cell has a light
    assert not any(_cells(response, "一、2").values())  # nobody owns 一、2 yet
    html = response.content.decode()
    assert 'id="board-light-yellow">1<' in html
    assert 'id="board-total">2<' in html
    assert 'id="chart-board-trend"' in html  # a coordinator sees the circle's trend
    assert tree["leaf"].agreement.title in html
    lights = _chart(response, "chart-board-lights")
    assert [(row["light"], row["value"]) for row in lights] == [
        ("red", 0),
        ("yellow", 1),
        ("blue", 0),
        ("green", 1),
        ("done", 0),
    ]


@pytest.mark.parametrize("role", ["owner", "partner"])
def test_signatories_see_the_agreement(request, web, tree, role):
    user = request.getfixturevalue(role)
    agreement = tree["leaf"].agreement
    response = _get(web(user), agreement=agreement.pk)
    assert response.context["board"].total == 2
    assert _numbers(response) == ["一、1", "一、2"]
    assert set(_cells(response, "一、1")) == {"四川省高级人民法院", "重庆市高级人民法院"}
    html = response.content.decode()
    assert 'id="chart-board-trend"' in html  # whoever sees the agreement sees its whole trend
    assert 'id="board-scope-agreement"' in html
    # Without a filter they see every agreement of theirs; the circle's trend is for its coordinators only.
    response = _get(web(user))
    assert response.context["board"].total == 2
    assert 'id="board-trend-hint"' in response.content.decode()
    assert response.context["trend_scope"] is None


def test_outsider_is_offered_nothing_and_gets_a_form_error(web, outsider, tree, chengyu):
    agreement = tree["leaf"].agreement
    client = web(outsider)
    response = _get(client)
    assert response.context["board"].total == 0
    html = response.content.decode()
    assert agreement.title not in html
    assert chengyu.name not in html
    assert str(agreement.pk) not in [str(v) for v, _label in response.context["form"].fields["agreement"].choices]

    for params in ({"agreement": agreement.pk}, {"circle": chengyu.pk}, {"circle": chengyu.pk, "agreement": "1"}):
        response = _get(client, **params)
        assert "board" not in response.context
        assert response.context["form"].errors
        html = response.content.decode()
        assert 'id="board-errors"' in html
        assert agreement.title not in html
        assert "异地财产查控" not in html
        assert 'id="board-matrix"' not in html


def test_anonymous_is_sent_to_sign_in(web):
    response = web(None).get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_only_get(web, coordinator):
    assert web(coordinator).post(URL).status_code == 405


def test_links_to_the_board(web, coordinator, tree):
    agreement = tree["leaf"].agreement
    html = web(coordinator).get(reverse("ledger:agreement", args=[agreement.pk])).content.decode()
    assert f'href="{URL}?agreement={agreement.pk}"' in html
    assert 'id="ledger-board-link"' in html


def test_circle_trend_only_for_its_coordinators_and_admins(web, partner, admin_user, coordinator, tree, chengyu):
    take_snapshots(timezone.localdate())
    today = timezone.localdate().isoformat()
    for user in (coordinator, admin_user):
        response = _get(web(user), circle=chengyu.pk)
        assert response.context["trend_scope"] == (chengyu, None)
        trend = _chart(response, "chart-board-trend")
        assert trend["categories"] == [today]
        assert {s["key"] for s in trend["series"]} == {"red", "yellow", "done", "progress"}
    response = _get(web(partner), circle=chengyu.pk)  # a member, not its coordinator
    assert response.context["board"].total == 2
    assert response.context["trend_scope"] is None
    assert 'id="chart-board-trend"' not in response.content.decode()
    # The agreement's trend: for whoever sees the agreement.
    response = _get(web(partner), agreement=tree["leaf"].agreement_id)
    assert _chart(response, "chart-board-trend")["categories"] == [today]


# --------------------------------------------------------------------------- filters


def test_light_filter(web, coordinator, overdue):
    agreement = overdue["leaf"].agreement
    client = web(coordinator)
    response = _get(client, agreement=agreement.pk, light="red")
    assert _numbers(response) == ["一、1"]
    board = response.context["board"]
    assert board.total == 1
    assert board.lights["red"] == 1
    assert [m.number for m in board.overdue] == ["一、1"]
    assert board.overdue[0].days_overdue == 10
    assert board.overdue[0].lead_agency == "四川省高级人民法院"
    html = response.content.decode()
    assert 'data-days-overdue="10"' in html
    assert set(_cells(response, "一、1").values()) == {"red"}
    assert _numbers(_get(client, agreement=agreement.pk, light="green")) == ["一、2"]
    assert _numbers(_get(client, agreement=agreement.pk, light="done")) == []
    # The light cards link to the same board with the light chosen.
    assert f'href="?agreement={agreement.pk}&amp;light=red"' in _get(client, agreement=agreement.pk).content.decode()


def test_agency_filter(web, coordinator, tree, courts):
    sichuan, chongqing = courts
    client = web(coordinator)
    agreement = tree["leaf"].agreement
    response = _get(client, agreement=agreement.pk, agency=chongqing.pk)
    assert _numbers(response) == ["一、1"]
    # The options are the agencies on the board (not all 13,000), the chosen one always among them.
    offered = [v for v, _label in response.context["form"].fields["agency"].choices if v]
    assert set(offered) == {sichuan.pk, chongqing.pk}
    elsewhere = Agency.objects.get(name="黑龙江省公安厅")
    response = _get(client, agreement=agreement.pk, agency=elsewhere.pk)
    assert _numbers(response) == []
    assert elsewhere.pk in [v for v, _label in response.context["form"].fields["agency"].choices]


def test_region_filter(web, coordinator, tree, chengyu):
    client = web(coordinator)
    agreement = tree["leaf"].agreement
    chongqing = Region.objects.get(code="500000")
    chengdu = Region.objects.get(code="510100")
    assert _numbers(_get(client, agreement=agreement.pk, region=chongqing.pk)) == ["一、1"]
    assert _numbers(_get(client, agreement=agreement.pk, region=Region.objects.get(code="510000").pk)) == ["一、1"]
    assert _numbers(_get(client, agreement=agreement.pk, region=chengdu.pk)) == []  # 四川高院 sits in the province
    assert _numbers(_get(client, agreement=agreement.pk, region=Region.objects.get(code="230000").pk)) == []
    # Provinces and the circle's cities are offered, never all 3,212 regions.
    response = _get(client, circle=chengyu.pk)
    groups = response.context["form"].fields["region"].choices[1:]
    offered = {value for _group, options in groups for value, _label in options}
    assert chengdu.pk in offered and chongqing.pk in offered
    assert Region.objects.get(code="230100").pk not in offered  # 哈尔滨: not in 成渝
    assert 34 < len(offered) < 200


def test_category_filter(web, coordinator, tree):
    with transaction.atomic():
        services.update_measure(acting_user=coordinator, measure=tree["other"], category=MeasureCategory.STUDY)
    client = web(coordinator)
    agreement = tree["leaf"].agreement
    response = _get(client, agreement=agreement.pk, category="study")
    assert _numbers(response) == ["一、2"]
    assert response.context["board"].categories["study"] == 1
    assert _numbers(_get(client, agreement=agreement.pk, category="regular")) == ["一、1"]


def test_deadline_range(web, coordinator, tree):
    client = web(coordinator)
    agreement = tree["leaf"].agreement
    assert _numbers(_get(client, agreement=agreement.pk, due_from="2026-12-01", due_to="2026-12-31")) == ["一、1"]
    assert _numbers(_get(client, agreement=agreement.pk, due_from="2027-01-01")) == []
    assert _numbers(_get(client, agreement=agreement.pk, due_to="2026-12-30")) == []


def test_agreement_outside_the_chosen_circle(web, admin_user, tree):
    delta = Circle.objects.get(slug="yangtze-delta")
    response = _get(web(admin_user), circle=delta.pk, agreement=tree["leaf"].agreement_id)
    assert "agreement" in response.context["form"].errors
    assert "board" not in response.context


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"agreement": "abc"}, "agreement"),
        ({"agreement": "99999999"}, "agreement"),
        ({"agreement": "99999999999999999999999"}, "agreement"),
        ({"circle": "x"}, "circle"),
        ({"region": "-1"}, "region"),
        ({"agency": "1.5"}, "agency"),
        ({"category": "nonsense"}, "category"),
        ({"light": "purple"}, "light"),
        ({"due_from": "2026-13-40"}, "due_from"),
        ({"due_to": "tomorrow"}, "due_to"),
        ({"due_from": "2026-12-31", "due_to": "2026-01-01"}, "due_to"),
    ],
)
def test_bad_input_is_a_form_error(web, coordinator, tree, params, field):
    response = _get(web(coordinator), **params)
    assert field in response.context["form"].errors, response.context["form"].errors
    assert "board" not in response.context
    assert 'id="board-errors"' in response.content.decode()


@pytest.mark.parametrize("page", ["9999", "0", "-3", "abc", "", "1e9", "99999999999999999999"])
def test_pages_out_of_range_are_clamped(web, coordinator, tree, page):
    response = _get(web(coordinator), agreement=tree["leaf"].agreement_id, page=page)
    board = response.context["board"]
    assert board.pages == 1
    assert board.page == 1
    assert _numbers(response) == ["一、1", "一、2"]


def test_htmx_gets_the_board_alone(web, coordinator, tree):
    response = web(coordinator).get(URL, {"agreement": tree["leaf"].agreement_id}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="board"' in html
    assert "HX-Request" in response["Vary"]


# --------------------------------------------------------------------------- bounded queries


def _grow(coordinator, owner, agreement, n: int, start: int) -> None:
    """``n`` more leaves, each owned by both courts (四川 leads, and reports), half of them overdue."""
    sichuan, chongqing = (Agency.objects.get(name=name) for name in ("四川省高级人民法院", "重庆市高级人民法院"))
    with transaction.atomic():
        area = services.add_measure(acting_user=coordinator, agreement=agreement, number=f"第{start}", title="方面")
        for i in range(n):
            leaf = services.add_measure(
                acting_user=coordinator,
                agreement=agreement,
                parent=area,
                number=f"{start}-{i}",
                title=f"举措{start}-{i}",
                category=MeasureCategory.LAUNCH if i % 2 else MeasureCategory.REGULAR,
                start_on=datetime.date(2026, 1, 1),
                due_on=_past(3) if i % 2 else datetime.date(2027, 6, 30),
            )
            lead = services.assign_owner(acting_user=coordinator, measure=leaf, agency=sichuan, role=OwnerRole.LEAD)
            services.assign_owner(acting_user=coordinator, measure=leaf, agency=chongqing)
            services.file_report(acting_user=owner, owner=lead, text=f"进展{start}-{i}", progress=10 + i)


def _count(fn) -> int:
    from django.core.cache import cache

    from yipanqi.core.versioning import forget_local_versions

    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_measures(web, coordinator, owner, tree, courts):
    agreement = tree["leaf"].agreement
    client = web(coordinator)
    take_snapshots(timezone.localdate())
    filters = BoardFilters(agreement=agreement)
    today = timezone.localdate()
    trend = (agreement.circle, agreement)

    def build():
        board = build_board(coordinator, filters, today, trend_scope=trend)
        assert board.total and board.matrix_rows

    def page():
        response = client.get(URL, {"agreement": agreement.pk, "page": "2"})
        assert response.status_code == 200

    def filtered_page():
        response = client.get(URL, {"circle": agreement.circle_id, "light": "red", "agency": courts[1].pk})
        assert response.status_code == 200

    _grow(coordinator, owner, agreement, 5, 1)
    small = (_count(build), _count(page), _count(filtered_page))
    _grow(coordinator, owner, agreement, 40, 2)
    large = (_count(build), _count(page), _count(filtered_page))
    assert small == large, (small, large)
    print(f"board queries (build_board, page, filtered page): {small}")

    # The second page holds the rest of the items, and its links keep the filters.
    response = _get(client, agreement=agreement.pk, page=2)
    board = response.context["board"]
    assert len(board.recent_reports) == 10
    assert board.total == 47
    assert (board.page, board.pages) == (2, 2)
    assert len(_numbers(response)) == 47 - MATRIX_PAGE
    assert f'href="?agreement={agreement.pk}&amp;page=1"' in response.content.decode()
    response = _get(client, agreement=agreement.pk)
    assert len(_numbers(response)) == MATRIX_PAGE
    assert _numbers(response)[0].startswith(("1-", "2-"))  # red first
    assert f'href="?agreement={agreement.pk}&amp;page=2"' in response.content.decode()
