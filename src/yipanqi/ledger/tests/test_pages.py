"""Ledger pages: the permission matrix of every page, the forms writing through the services, bounded queries.

Cast (see src/yipanqi/conftest.py): ``owner`` = 四川高院 liaison (leads 一、1 in the ``tree`` fixture), ``partner`` =
重庆高院 liaison (co-owns 一、1), ``coordinator`` = 成渝 coordination office, ``outsider`` = 黑龙江 police liaison.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yipanqi.directory.models import Agency
from yipanqi.ledger import selectors, services
from yipanqi.ledger.models import (
    Agreement,
    Measure,
    MeasureOwner,
    MeasureStatus,
    OwnerRole,
    ProgressReport,
    ShareStatus,
    Supervision,
    SupervisionStatus,
)

pytestmark = pytest.mark.django_db

ROLES = ("owner", "partner", "coordinator", "outsider", "anonymous")


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


def _assert_status(response, expected, url):
    if expected == 302:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), response["Location"]
    else:
        assert response.status_code == expected, (url, response.status_code)


@pytest.fixture
def supervision(coordinator, tree):
    with transaction.atomic():
        return services.issue_supervision(
            acting_user=coordinator,
            owner=tree["lead"],
            message="请加快推进异地财产查控",
            reply_due_on=timezone.localdate() + datetime.timedelta(days=7),
        )


# --------------------------------------------------------------------------- permission matrix


def _urls(tree, supervision):
    agreement = tree["leaf"].agreement
    return {
        "agreements": reverse("ledger:agreements"),
        "my": reverse("ledger:my"),
        "agreement": reverse("ledger:agreement", args=[agreement.pk]),
        "measure": reverse("ledger:measure", args=[tree["leaf"].pk]),
        "area": reverse("ledger:measure", args=[tree["area"].pk]),
        "agreement-new": reverse("ledger:agreement-new"),
        "measure-new": reverse("ledger:measure-new", args=[agreement.pk]),
        "owner-new": reverse("ledger:owner-new", args=[tree["other"].pk]),
        "confirm-closure": reverse("ledger:confirm-closure", args=[tree["leaf"].pk]),
        "report": reverse("ledger:report", args=[tree["lead"].pk]),
        "share-close": reverse("ledger:share-close", args=[tree["lead"].pk]),
        "supervise": reverse("ledger:supervise", args=[tree["lead"].pk]),
        "supervision-reply": reverse("ledger:supervision-reply", args=[supervision.pk]),
    }


# page → expected status for owner, partner, coordinator, outsider, anonymous
PAGE_MATRIX = {
    "agreements": (200, 200, 200, 200, 302),
    "my": (200, 200, 200, 200, 302),
    "agreement": (200, 200, 200, 404, 302),
    "measure": (200, 200, 200, 404, 302),
    "area": (200, 200, 200, 404, 302),
    "agreement-new": (403, 403, 200, 403, 302),
    "measure-new": (403, 403, 200, 404, 302),
    "owner-new": (403, 403, 200, 404, 302),
    "confirm-closure": (403, 403, 200, 404, 302),
    "report": (200, 403, 403, 404, 302),
    "share-close": (200, 403, 403, 404, 302),
    "supervise": (403, 403, 200, 404, 302),
    "supervision-reply": (200, 403, 403, 404, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(request, web, tree, supervision, role):
    client = web(_who(request, role))
    urls = _urls(tree, supervision)
    index = ROLES.index(role)
    for page, statuses in PAGE_MATRIX.items():
        _assert_status(client.get(urls[page]), statuses[index], page)


@pytest.mark.parametrize("role", ROLES)
def test_write_matrix_posts_change_nothing_when_refused(request, web, tree, supervision, role):
    """Every refused POST answers 403/404/302 and writes nothing."""
    client = web(_who(request, role))
    urls = _urls(tree, supervision)
    index = ROLES.index(role)
    posts = {
        "measure-new": {"number": "二", "title": "律师协作", "category": "regular"},
        "owner-new": {"agency": "四川省人民检察院", "role": "co"},
        "report": {"text": "进展", "progress": "30"},
        "share-close": {"results": "已完成"},
        "supervise": {"message": "督办", "reply_due_on": str(timezone.localdate() + datetime.timedelta(days=3))},
        "supervision-reply": {"reply": "已推进"},
    }
    counts = (Measure.objects.count(), MeasureOwner.objects.count(), ProgressReport.objects.count())
    supervisions = Supervision.objects.count()
    for page, data in posts.items():
        expected = PAGE_MATRIX[page][index]
        response = client.post(urls[page], data)
        if expected == 200:
            assert response.status_code == 302, (page, response.status_code)  # done, redirected
        else:
            _assert_status(response, expected, page)
    if role == "anonymous" or role == "outsider":
        assert (Measure.objects.count(), MeasureOwner.objects.count(), ProgressReport.objects.count()) == counts
        assert Supervision.objects.count() == supervisions
        assert Supervision.objects.get(pk=supervision.pk).reply == ""


def test_a_viewer_of_the_owning_agency_reads_but_cannot_write(web, tree, owner):
    """Viewers read: the pages open, no form is offered, a forged POST is refused and writes nothing."""
    from yipanqi.directory.models import Role
    from yipanqi.directory.services import create_user

    with transaction.atomic():
        viewer = create_user(
            acting_user=None,
            username="sc_court_viewer",
            password=None,
            full_name="四川高院查阅",
            agency=owner.agency,
            roles=[Role.VIEWER],
        )
    client = web(viewer)
    for url in (
        reverse("ledger:my"),
        reverse("ledger:agreement", args=[tree["leaf"].agreement_id]),
        reverse("ledger:measure", args=[tree["leaf"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "异地财产查控" in page
        assert reverse("ledger:report", args=[tree["lead"].pk]) not in page
        assert 'name="progress"' not in page
    response = client.post(reverse("ledger:report", args=[tree["lead"].pk]), {"text": "查阅人员", "progress": "90"})
    assert response.status_code == 403
    assert not ProgressReport.objects.exists()


def test_an_owner_that_did_not_sign_works_on_its_measure_only(web, tree, coordinator):
    """成都中院 owns 一、2 without signing: it reports on the measure, the agreement stays hidden (404)."""
    from yipanqi.directory.models import User

    chengdu = Agency.objects.get(name="成都市中级人民法院")
    handler = User.objects.get(username="cd_court")
    with transaction.atomic():
        share = services.assign_owner(acting_user=coordinator, measure=tree["other"], agency=chengdu)
    client = web(handler)
    agreement_url = reverse("ledger:agreement", args=[tree["other"].agreement_id])
    assert client.get(agreement_url).status_code == 404
    assert client.get(reverse("ledger:measure", args=[tree["leaf"].pk])).status_code == 404
    page = client.get(reverse("ledger:measure", args=[tree["other"].pk])).content.decode()
    assert agreement_url not in page and reverse("ledger:measure", args=[tree["area"].pk]) not in page
    assert reverse("ledger:report", args=[share.pk]) in page
    assert "委托执行案件移送" in client.get(reverse("ledger:my")).content.decode()
    response = client.post(reverse("ledger:report", args=[share.pk]), {"text": "已对接", "progress": "30"})
    assert response.status_code == 302
    assert Measure.objects.get(pk=tree["other"].pk).progress == 30


def test_outsider_sees_no_foreign_agreement_in_the_list(web, tree, outsider):
    response = web(outsider).get(reverse("ledger:agreements"))
    assert response.status_code == 200
    assert tree["leaf"].agreement.title not in response.content.decode()


def test_anonymous_close_supervision_is_sent_to_login(web, supervision):
    response = web(None).post(reverse("ledger:supervision-close", args=[supervision.pk]))
    _assert_status(response, 302, "supervision-close")
    assert Supervision.objects.get(pk=supervision.pk).status == SupervisionStatus.OPEN


# --------------------------------------------------------------------------- pages show what they should


def test_agreement_page_shows_tree_owners_lights_and_coordinator_buttons(web, tree, coordinator, owner):
    agreement = tree["leaf"].agreement
    url = reverse("ledger:agreement", args=[agreement.pk])
    page = web(coordinator).get(url).content.decode()
    for text in ("执行协作", "异地财产查控", "委托执行案件移送", "四川省高级人民法院", "重庆市高级人民法院"):
        assert text in page
    assert f'id="m-{tree["leaf"].pk}"' in page and 'data-light="' in page
    assert reverse("ledger:owner-new", args=[tree["other"].pk]) in page
    assert reverse("ledger:supervise", args=[tree["lead"].pk]) in page
    assert reverse("ledger:measure-new", args=[agreement.pk]) in page
    # The owner sees the tree but none of the coordinator's buttons; it may report on its own share only.
    page = web(owner).get(url).content.decode()
    assert reverse("ledger:owner-new", args=[tree["other"].pk]) not in page
    assert reverse("ledger:supervise", args=[tree["lead"].pk]) not in page
    assert reverse("ledger:report", args=[tree["lead"].pk]) in page
    assert reverse("ledger:report", args=[tree["co"].pk]) not in page


def test_light_labels_are_translated(web, tree, owner):
    with transaction.atomic():
        services.update_measure(
            acting_user=None, measure=tree["leaf"], due_on=timezone.localdate() - datetime.timedelta(days=3)
        )
    client = web(owner)
    client.cookies["yipanqi_language"] = "zh-hans"
    page = client.get(reverse("ledger:measure", args=[tree["leaf"].pk])).content.decode()
    assert 'data-light="red"' in page
    client.cookies["yipanqi_language"] = "en"
    page = client.get(reverse("ledger:measure", args=[tree["leaf"].pk])).content.decode()
    assert "Red light" in page
    # The area above shows the most urgent light below it, on the tree and on its own page.
    page = client.get(reverse("ledger:agreement", args=[tree["leaf"].agreement_id])).content.decode()
    assert re.search(rf'id="m-{tree["area"].pk}" data-number="一" data-light="red"', page)
    page = client.get(reverse("ledger:measure", args=[tree["area"].pk])).content.decode()
    assert page.count('data-light="red"') >= 2  # the area itself and its overdue child


def test_my_page_lists_the_agencys_shares_red_first(web, tree, owner, coordinator):
    agreement = tree["leaf"].agreement
    sichuan = tree["lead"].agency
    with transaction.atomic():
        late = services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=tree["area"],
            number="一、3",
            title="逾期举措",
            due_on=timezone.localdate() - datetime.timedelta(days=10),
        )
        services.assign_owner(acting_user=coordinator, measure=late, agency=sichuan, role=OwnerRole.LEAD)
    response = web(owner).get(reverse("ledger:my"))
    page = response.content.decode()
    assert page.index("逾期举措") < page.index("异地财产查控")
    assert 'data-light="red"' in page
    assert reverse("ledger:report", args=[tree["lead"].pk]) in page
    assert "csrfmiddlewaretoken" in page
    red_only = web(owner).get(reverse("ledger:my") + "?light=red").content.decode()
    assert "逾期举措" in red_only and "异地财产查控" not in red_only


def test_dashboard_card_shows_the_agencys_measures(web, tree, owner, outsider):
    page = web(owner).get(reverse("dashboard")).content.decode()
    assert 'id="my-measures"' in page and "异地财产查控" in page
    assert reverse("ledger:my") in page
    page = web(outsider).get(reverse("dashboard")).content.decode()
    assert 'id="my-measures"' in page and "异地财产查控" not in page


def test_nav_marks_the_ledger_section(web, tree, owner):
    page = web(owner).get(reverse("ledger:my")).content.decode()
    assert "nav-item dropdown active" in page and 'id="ledger-menu"' in page


# --------------------------------------------------------------------------- forms write through the services


def test_owner_reports_and_progress_rolls_up(web, tree, owner):
    url = reverse("ledger:report", args=[tree["lead"].pk])
    next_url = reverse("ledger:my")
    response = web(owner).post(
        url,
        {
            "text": "已建立查控联络机制",
            "progress": "40",
            "problems": "系统对接",
            "next_steps": "联调",
            "next": next_url,
        },
    )
    assert response.status_code == 302 and response["Location"] == next_url
    report = ProgressReport.objects.get(owner=tree["lead"])
    assert (report.progress, report.filed_by, report.problems) == (40, owner, "系统对接")
    assert Measure.objects.get(pk=tree["leaf"].pk).progress == 20  # (40 + 0) / 2 owners
    assert Measure.objects.get(pk=tree["area"].pk).progress == 10  # (20 + 0) / 2 children
    page = web(owner).get(reverse("ledger:measure", args=[tree["leaf"].pk])).content.decode()
    assert "已建立查控联络机制" in page and "40%" in page


def test_a_resent_report_form_files_once(web, tree, owner):
    url = reverse("ledger:report", args=[tree["lead"].pk])
    data = {"text": "进展", "progress": "30", "idempotency_key": "f" * 32}
    client = web(owner)
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert ProgressReport.objects.filter(owner=tree["lead"]).count() == 1


def test_partner_cannot_report_on_the_owners_share(web, tree, partner):
    response = web(partner).post(reverse("ledger:report", args=[tree["lead"].pk]), {"text": "冒报", "progress": "90"})
    assert response.status_code == 403
    assert not ProgressReport.objects.exists()
    assert MeasureOwner.objects.get(pk=tree["lead"].pk).progress == 0


@pytest.mark.parametrize("progress", ["150", "-1", "abc", ""])
def test_invalid_progress_shows_an_error_and_writes_nothing(web, tree, owner, progress):
    response = web(owner).post(reverse("ledger:report", args=[tree["lead"].pk]), {"text": "进展", "progress": progress})
    assert response.status_code == 200
    page = response.content.decode()
    assert "invalid-feedback" in page and "is-invalid" in page
    assert not ProgressReport.objects.exists()
    assert MeasureOwner.objects.get(pk=tree["lead"].pk).progress == 0


def test_service_refusal_shows_as_form_error(web, tree, owner):
    """A closed share cannot be reported on: the service's ValidationError is shown, nothing is written."""
    with transaction.atomic():
        services.close_share(acting_user=owner, owner=tree["lead"], results="完成")
    response = web(owner).post(reverse("ledger:report", args=[tree["lead"].pk]), {"text": "再报", "progress": "50"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_coordinator_adds_a_measure_and_assigns_owners(web, tree, coordinator):
    agreement = tree["leaf"].agreement
    client = web(coordinator)
    response = client.post(
        reverse("ledger:measure-new", args=[agreement.pk]),
        {
            "parent": tree["area"].pk,
            "number": "一、3",
            "title": "执行联动指挥中心对接",
            "category": "launch",
            "start_on": "2026-04-01",
            "due_on": "2026-12-31",
        },
    )
    measure = Measure.objects.get(agreement=agreement, number="一、3")
    assert response.status_code == 302 and response["Location"].endswith(f"#m-{measure.pk}")
    assert (measure.parent_id, measure.depth, measure.category) == (tree["area"].pk, 1, "launch")

    url = reverse("ledger:owner-new", args=[measure.pk])
    assert "重庆市高级人民法院" in client.get(url).content.decode()  # the datalist of suggestions
    response = client.post(url, {"agency": "重慶市高級人民法院", "role": "lead"})  # traditional characters work
    assert response.status_code == 302
    response = client.post(url, {"agency": "四川省高级人民法院", "role": "co"})
    assert response.status_code == 302
    owners = {o.agency.name: o.role for o in MeasureOwner.objects.filter(measure=measure).select_related("agency")}
    assert owners == {"重庆市高级人民法院": "lead", "四川省高级人民法院": "co"}


def test_owner_form_errors(web, tree, coordinator):
    url = reverse("ledger:owner-new", args=[tree["leaf"].pk])
    client = web(coordinator)
    before = MeasureOwner.objects.count()
    page = client.post(url, {"agency": "火星高级人民法院", "role": "co"}).content.decode()
    assert "火星高级人民法院" in page and "invalid-feedback" in page
    page = client.post(url, {"agency": "人民法院", "role": "co"}).content.decode()  # too many match
    assert "invalid-feedback" in page
    page = client.post(url, {"agency": "重庆市高级人民法院", "role": "co"}).content.decode()  # already owns a share
    assert "invalid-feedback" in page
    page = client.post(url, {"agency": "四川省人民检察院", "role": "lead"}).content.decode()  # second lead
    assert "invalid-feedback" in page
    assert MeasureOwner.objects.count() == before
    # The area has children: owners go to the lowest level only.
    response = client.post(reverse("ledger:owner-new", args=[tree["area"].pk]), {"agency": "四川省人民检察院"})
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    assert MeasureOwner.objects.count() == before


def test_measure_form_errors_write_nothing(web, tree, coordinator):
    agreement = tree["leaf"].agreement
    url = reverse("ledger:measure-new", args=[agreement.pk])
    client = web(coordinator)
    before = Measure.objects.count()
    response = client.post(
        url, {"parent": tree["area"].pk, "number": "一、1", "title": "重复编号", "category": "regular"}
    )
    assert response.status_code == 200 and "alert-danger" in response.content.decode()
    response = client.post(
        url, {"number": "二", "title": "倒置", "category": "regular", "start_on": "2026-05-01", "due_on": "2026-04-01"}
    )
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    # A measure with owners cannot be a parent: it is not even offered.
    response = client.post(
        url, {"parent": tree["leaf"].pk, "number": "一、1、1", "title": "子项", "category": "regular"}
    )
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert Measure.objects.count() == before


def test_coordinator_issues_supervision_and_the_owner_replies(web, tree, coordinator, owner, partner):
    agreement = tree["leaf"].agreement
    due = timezone.localdate() + datetime.timedelta(days=5)
    response = web(coordinator).post(
        reverse("ledger:supervise", args=[tree["co"].pk]),
        {"message": "请于期限前报送进展", "reply_due_on": due.isoformat()},
    )
    assert response.status_code == 302
    supervision = Supervision.objects.get(owner=tree["co"])
    light = selectors.light_for(Measure.objects.get(pk=tree["leaf"].pk))
    assert (supervision.issued_by, supervision.reply_due_on, supervision.light) == (coordinator, due, light)

    # The notice waits on the partner's page; the owner (another agency) may not answer it.
    assert "请于期限前报送进展" in web(partner).get(reverse("ledger:my")).content.decode()
    reply_url = reverse("ledger:supervision-reply", args=[supervision.pk])
    assert web(owner).post(reply_url, {"reply": "越权答复"}).status_code == 403
    assert web(partner).post(reply_url, {"reply": ""}).status_code == 200  # empty: error, nothing written
    assert Supervision.objects.get(pk=supervision.pk).status == SupervisionStatus.OPEN
    response = web(partner).post(reply_url, {"reply": "已完成系统联调，下周报送"})
    assert response.status_code == 302
    supervision.refresh_from_db()
    assert (supervision.status, supervision.replied_by, supervision.reply) == (
        SupervisionStatus.REPLIED,
        partner,
        "已完成系统联调，下周报送",
    )
    page = web(coordinator).get(reverse("ledger:agreement", args=[agreement.pk])).content.decode()
    assert "已完成系统联调，下周报送" in page

    close_url = reverse("ledger:supervision-close", args=[supervision.pk])
    assert web(partner).post(close_url).status_code == 403
    assert Supervision.objects.get(pk=supervision.pk).status == SupervisionStatus.REPLIED
    response = web(coordinator).post(close_url)
    assert response.status_code == 302
    assert Supervision.objects.get(pk=supervision.pk).status == SupervisionStatus.CLOSED


def test_supervision_with_a_past_reply_date_is_refused(web, tree, coordinator):
    response = web(coordinator).post(
        reverse("ledger:supervise", args=[tree["lead"].pk]),
        {"message": "督办", "reply_due_on": (timezone.localdate() - datetime.timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not Supervision.objects.exists()


def test_owners_close_their_shares_and_the_coordinator_confirms(web, tree, owner, partner, coordinator):
    leaf = tree["leaf"]
    for user, share in ((owner, tree["lead"]), (partner, tree["co"])):
        response = web(user).post(
            reverse("ledger:share-close", args=[share.pk]), {"results": f"{share.agency.name}完成", "evidence": "通报"}
        )
        assert response.status_code == 302
    assert MeasureOwner.objects.get(pk=tree["lead"].pk).status == ShareStatus.CLOSED
    assert Measure.objects.get(pk=leaf.pk).status == MeasureStatus.CLOSING
    tree_page = web(coordinator).get(reverse("ledger:agreement", args=[leaf.agreement_id])).content.decode()
    assert reverse("ledger:confirm-closure", args=[leaf.pk]) in tree_page
    response = web(coordinator).post(reverse("ledger:confirm-closure", args=[leaf.pk]), {"results": "查控机制建成"})
    assert response.status_code == 302
    leaf.refresh_from_db()
    assert (leaf.status, leaf.results, leaf.progress) == (MeasureStatus.DONE, "查控机制建成", 100)
    page = web(owner).get(reverse("ledger:measure", args=[leaf.pk])).content.decode()
    assert 'data-light="done"' in page


def test_signatories_confirm_closure_one_by_one(web, tree, owner, partner, coordinator):
    """With closure_rule=signatories each signatory's liaison confirms; the last confirmation closes the measure."""
    leaf = tree["leaf"]
    with transaction.atomic():
        services.update_agreement(acting_user=coordinator, agreement=leaf.agreement, closure_rule="signatories")
        services.close_share(acting_user=owner, owner=tree["lead"], results="四川完成")
        services.close_share(acting_user=partner, owner=tree["co"], results="重庆完成")
    url = reverse("ledger:confirm-closure", args=[leaf.pk])
    assert web(coordinator).get(url).status_code == 403  # the coordinating agency did not sign
    measure_page = reverse("ledger:measure", args=[leaf.pk])
    assert url in web(owner).get(measure_page).content.decode()
    assert web(owner).post(url, {}).status_code == 302  # an empty POST is a submission too
    assert Measure.objects.get(pk=leaf.pk).status == MeasureStatus.CLOSING
    assert url not in web(owner).get(measure_page).content.decode()  # confirmed already
    assert web(partner).post(url, {"results": "两地查控机制建成"}).status_code == 302
    leaf.refresh_from_db()
    assert (leaf.status, leaf.results) == (MeasureStatus.DONE, "两地查控机制建成")


def test_close_share_needs_results(web, tree, owner):
    response = web(owner).post(reverse("ledger:share-close", args=[tree["lead"].pk]), {"results": "  "})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert MeasureOwner.objects.get(pk=tree["lead"].pk).status != ShareStatus.CLOSED


def test_coordinator_creates_an_agreement(web, coordinator, chengyu, courts):
    client = web(coordinator)
    url = reverse("ledger:agreement-new")
    page = client.get(url).content.decode()
    assert "四川省高级人民法院" in page and "成都市中级人民法院" in page
    assert "成都市锦江区人民法院" not in page  # county level is left out of the select
    sichuan, chongqing = courts
    response = client.post(url, {"circle": chengyu.pk, "title": "单方协议", "kind": "cooperation", "status": "draft",
                                 "signatories": [sichuan.pk], "closure_rule": "coordinator",
                                 "reporting_cycle": "monthly"})  # fmt: skip
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not Agreement.objects.filter(title="单方协议").exists()
    outside = Agency.objects.get(name="黑龙江省公安厅")
    response = client.post(url, {"circle": chengyu.pk, "title": "越界协议", "kind": "cooperation", "status": "draft",
                                 "signatories": [sichuan.pk, outside.pk], "closure_rule": "coordinator",
                                 "reporting_cycle": "monthly"})  # fmt: skip
    assert response.status_code == 200 and not Agreement.objects.filter(title="越界协议").exists()
    response = client.post(
        url,
        {
            "circle": chengyu.pk,
            "title": "《川渝法院执行协作框架协议》",
            "kind": "framework",
            "status": "in_force",
            "signatories": [sichuan.pk, chongqing.pk],
            "signed_on": "2026-03-01",
            "signed_place": "重庆",
            "closure_rule": "coordinator",
            "reporting_cycle": "monthly",
        },
    )
    agreement = Agreement.objects.get(title="《川渝法院执行协作框架协议》")
    assert response.status_code == 302 and response["Location"] == reverse("ledger:agreement", args=[agreement.pk])
    assert set(agreement.signatories.values_list("pk", flat=True)) == {sichuan.pk, chongqing.pk}
    assert (agreement.circle, agreement.created_by, agreement.signed_place) == (chengyu, coordinator, "重庆")


def test_agreement_list_filters(web, tree, coordinator, chengyu):
    client = web(coordinator)
    title = tree["leaf"].agreement.title
    assert title in client.get(reverse("ledger:agreements") + f"?circle={chengyu.pk}").content.decode()
    assert title not in client.get(reverse("ledger:agreements") + "?status=draft").content.decode()
    assert title in client.get(reverse("ledger:agreements") + "?q=执行协作").content.decode()


def test_next_must_stay_on_this_site(web, tree, owner):
    response = web(owner).post(
        reverse("ledger:report", args=[tree["lead"].pk]),
        {"text": "进展", "progress": "10", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:measure", args=[tree["leaf"].pk])


# --------------------------------------------------------------------------- bounded queries


def _grow(agreement, coordinator, n, start):
    procuratorate = Agency.objects.get(name="四川省人民检察院")
    with transaction.atomic():
        area = services.add_measure(acting_user=coordinator, agreement=agreement, number=f"第{start}方面", title="方面")
        for i in range(n):
            leaf = services.add_measure(
                acting_user=coordinator,
                agreement=agreement,
                parent=area,
                number=f"{start}-{i}",
                title=f"举措{start}-{i}",
                start_on=datetime.date(2026, 1, 1),
                due_on=datetime.date(2026, 12, 31),
            )
            owner = services.assign_owner(acting_user=coordinator, measure=leaf, agency=procuratorate)
            services.issue_supervision(
                acting_user=coordinator,
                owner=owner,
                message="督办",
                reply_due_on=timezone.localdate() + datetime.timedelta(days=3),
            )


def _count_queries(client, url):
    from django.core.cache import cache

    from yipanqi.core.versioning import forget_local_versions

    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_agreement_tree_queries_do_not_grow_with_measures(web, tree, coordinator):
    agreement = tree["leaf"].agreement
    url = reverse("ledger:agreement", args=[agreement.pk])
    client = web(coordinator)
    _grow(agreement, coordinator, 2, 1)
    small = _count_queries(client, url)
    _grow(agreement, coordinator, 25, 2)
    large = _count_queries(client, url)
    assert Measure.objects.filter(agreement=agreement).count() > 30
    assert small == large, (small, large)


def test_my_page_queries_do_not_grow_with_shares(web, tree, coordinator, owner):
    agreement = tree["leaf"].agreement
    sichuan = tree["lead"].agency
    client = web(owner)
    url = reverse("ledger:my")

    def add(n, start):
        with transaction.atomic():
            for i in range(n):
                leaf = services.add_measure(
                    acting_user=coordinator, agreement=agreement, parent=tree["area"], number=f"x{start}-{i}", title="x"
                )
                share = services.assign_owner(acting_user=coordinator, measure=leaf, agency=sichuan)
                services.issue_supervision(
                    acting_user=coordinator,
                    owner=share,
                    message="督办",
                    reply_due_on=timezone.localdate() + datetime.timedelta(days=3),
                )

    add(2, 1)
    small = _count_queries(client, url)
    add(10, 2)
    large = _count_queries(client, url)
    assert small == large, (small, large)


def test_confirming_a_measure_not_awaiting_closure_shows_the_error(web, coordinator, tree):
    from django.urls import reverse

    from yipanqi.core.models import AuditEvent

    before = AuditEvent.objects.count()
    response = web(coordinator).post(reverse("ledger:confirm-closure", args=[tree["leaf"].pk]), {"results": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert AuditEvent.objects.count() == before


def test_missing_reports_are_flagged_on_my_page_and_the_measure(web, tree, owner):
    today = timezone.localdate()
    with transaction.atomic():
        services.update_measure(
            acting_user=None,
            measure=tree["leaf"],
            start_on=today - datetime.timedelta(days=120),
            due_on=today + datetime.timedelta(days=200),
        )
    client = web(owner)
    my_page = client.get(reverse("ledger:my")).content.decode()
    assert 'data-report-missing="1"' in my_page
    measure_page = client.get(reverse("ledger:measure", args=[tree["leaf"].pk])).content.decode()
    assert measure_page.count('data-report-missing="1"') == 2  # both courts owe their report
    with transaction.atomic():
        services.file_report(acting_user=owner, owner=tree["lead"], text="已报送", progress=60)
    measure_page = client.get(reverse("ledger:measure", args=[tree["leaf"].pk])).content.decode()
    assert measure_page.count('data-report-missing="1"') == 1
