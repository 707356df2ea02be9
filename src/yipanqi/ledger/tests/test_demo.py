"""The demo ledger: it loads on top of the directory demo, is idempotent, and shows every light on the board."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from yipanqi.core.models import AuditEvent
from yipanqi.core.testing.shared import shared_writes
from yipanqi.directory.models import User
from yipanqi.ledger import selectors
from yipanqi.ledger.demo import CHENGYU_COURTS, CHENGYU_JUSTICE, JINGJINJI, YANGTZE, demo_agreements, load_ledger_demo
from yipanqi.ledger.models import (
    Agreement,
    AgreementKind,
    Measure,
    MeasureOwner,
    ProgressReport,
    Supervision,
    SupervisionStatus,
)

pytestmark = pytest.mark.django_db


def _counts():
    return {
        "agreements": Agreement.objects.count(),
        "measures": Measure.objects.count(),
        "owners": MeasureOwner.objects.count(),
        "reports": ProgressReport.objects.count(),
        "supervisions": Supervision.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_the_demo_command_loads_the_ledger_too():
    out = io.StringIO()
    call_command("demo", "--quiet-logins", stdout=out)
    assert demo_agreements().count() == 4
    counts = _counts()
    call_command("demo", "--quiet-logins", stdout=out)
    assert _counts() == counts
    assert f"《{YANGTZE.title}》已存在" in out.getvalue()


def _load():
    before = _counts()
    created = load_ledger_demo()
    return before, created, _counts()


@pytest.fixture(scope="class")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The ledger demo, loaded once for the tests of a class (each test's own writes still roll back after it)."""
    with shared_writes(django_db_blocker, tmp_path_factory.mktemp("media"), _load) as counts:
        yield counts


class TestOneLoad:
    """Tests that read the demo as one load left it: they share that load."""

    def test_loads_once_and_a_second_run_changes_nothing(self, loaded):
        before, created, after_first = loaded
        assert _counts() == after_first
        assert created["agreements"] == 4
        assert demo_agreements().count() == 4
        for key in ("agreements", "measures", "reports", "supervisions"):
            assert after_first[key] - before[key] == created[key], key
        assert after_first["audit"] > before["audit"]
        again = load_ledger_demo()
        assert again == {"agreements": 0, "measures": 0, "leaves": 0, "reports": 0, "supervisions": 0}
        assert _counts() == after_first

    def test_agreements_have_the_promised_shape(self, loaded):
        jingjinji = Agreement.objects.get(title=JINGJINJI.title)
        assert jingjinji.circle.slug == "jingjinji"
        assert set(jingjinji.signatories.values_list("name", flat=True)) == {
            "北京市司法局",
            "天津市司法局",
            "河北省司法厅",
        }
        assert jingjinji.measures.filter(depth=0).count() == 6
        assert jingjinji.measures.leaves().count() == 20

        yangtze = Agreement.objects.get(title=YANGTZE.title)
        assert yangtze.kind == AgreementKind.ACTION_PLAN
        assert yangtze.measures.filter(depth=0).count() == 12
        assert yangtze.signatories.count() == 4
        for area in yangtze.measures.filter(depth=0):
            assert 1 <= area.children.count() <= 3

        justice = Agreement.objects.get(title=CHENGYU_JUSTICE.title)
        assert justice.kind == AgreementKind.IMPLEMENTATION_PLAN
        owner_regions = set(
            MeasureOwner.objects.filter(measure__agreement=justice).values_list("agency__region__code", flat=True)
        )
        assert {"510000", "500000"} <= owner_regions
        for leaf in Measure.objects.filter(agreement__in=demo_agreements(), is_leaf=True):
            assert leaf.owners.filter(role="lead").count() == 1, leaf.number
            assert leaf.due_on and leaf.start_on and leaf.start_on <= leaf.due_on

        courts = Agreement.objects.get(title=CHENGYU_COURTS.title)
        reports = ProgressReport.objects.filter(measure__agreement=courts)
        filed_by = set(reports.values_list("filed_by__username", flat=True))
        assert {"sc_court", "cq_court"} <= filed_by

    def test_every_light_shows_and_the_demo_people_have_work(self, loaded):
        measures = Measure.objects.filter(agreement__in=demo_agreements(), is_leaf=True).select_related("agreement")
        lights = {selectors.light_for(m) for m in measures}
        assert {"red", "yellow", "blue", "green", "done"} <= lights
        supervisions = Supervision.objects.filter(measure__agreement__in=demo_agreements())
        assert supervisions.filter(status=SupervisionStatus.OPEN).count() >= 2
        replied = Supervision.objects.get(
            status=SupervisionStatus.REPLIED, measure__agreement__title=CHENGYU_COURTS.title
        )
        assert replied.replied_by.username == "sc_court"
        assert replied.issued_by.username == "chengyu_coord"
        for username in ("sc_court", "cq_court", "sh_procurator"):
            user = User.objects.select_related("agency").get(username=username)
            assert selectors.my_shares(user).exists(), username
        procurator = User.objects.get(username="sh_procurator")
        assert Supervision.objects.visible_to(procurator).filter(status=SupervisionStatus.OPEN).exists()
