"""``yipanqi intake FILE [--published YYYY-MM-DD] [--json]``: the draft on stdout, every item with its span into the
original text; a document that cannot be read exits non-zero with the reason, and nothing is written."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from yipanqi.intake.models import IntakeDocument

from .conftest import REPO, seed_text

pytestmark = pytest.mark.django_db

KEYS = {"event", "agencies", "agreements", "measures", "topics", "figures", "declared_counts", "warnings"}


def _items(draft: dict):
    """Every item of the draft that must carry a span (the measure tree walked)."""
    yield draft["event"]
    for key in ("agencies", "agreements", "topics", "figures", "declared_counts"):
        yield from draft[key]
    for agreement in draft["agreements"]:
        yield from agreement["parties"]
    stack = list(draft["measures"])
    while stack:
        node = stack.pop()
        assert set(node) >= {"number", "text", "children", "span"}
        yield node
        stack.extend(node["children"])


def _tree(nodes):
    for node in nodes:
        yield node
        yield from _tree(node["children"])


def _run(*args) -> str:
    out = io.StringIO()
    call_command("intake", *args, stdout=out)
    return out.getvalue()


def test_json_draft_of_a_seed_points_into_the_original(tmp_path):
    original = seed_text("001")
    path = tmp_path / "考察.txt"
    path.write_text(original, encoding="utf-8")
    draft = json.loads(_run(str(path), "--published", "2020-06-19", "--json"))
    assert set(draft) >= KEYS
    assert draft["event"]["date"] == "2020-06-17" and draft["event"]["end_date"] == "2020-06-18"
    items = list(_items(draft))
    assert len(items) > 50
    for item in items:
        start, end = item["span"]
        assert 0 <= start <= end <= len(original), item
    measures = list(_tree(draft["measures"]))
    assert len(measures) >= 60  # seven areas, their groups and 52 numbered items
    for node in measures:  # each span is where its text is written (a simplified seed: the same characters)
        assert node["text"][:3] in original[slice(*node["span"])], node
    assert not IntakeDocument.objects.exists()  # the CLI writes nothing


def test_traditional_input_keeps_spans_in_the_traditional_text(tmp_path):
    original = "四川省高級人民法院與重慶市高級人民法院於4月23日簽署《知識產權司法保護交流合作協議》。\n" * 2
    path = tmp_path / "繁體.txt"
    path.write_text(original, encoding="utf-8")
    draft = json.loads(_run(str(path), "--published", "2020-05-14", "--json"))
    agreements = draft["agreements"]
    assert agreements and agreements[0]["title"] == "知识产权司法保护交流合作协议"
    start, end = agreements[0]["span"]
    assert "知識產權司法保護交流合作協議" in original[start:end]
    assert draft["source"]["traditional"] is True


def test_the_summary_is_for_people(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(seed_text("000"), encoding="utf-8")
    out = _run(str(path))
    assert "《" in out and not out.lstrip().startswith("{")


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"", "empty.txt"), (b"\x00\x01\x02binary\xff" * 50, "blob.txt"), (b"Only English here. " * 40, "english.txt")],
)
def test_unreadable_documents_exit_with_the_reason(tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as caught:
        _run(str(path), "--json")
    assert str(caught.value).strip()
    assert not IntakeDocument.objects.exists()


def test_a_huge_file_and_a_bad_date_are_refused(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes("中文内容。".encode() * 400_000)  # 6 MB
    with pytest.raises(CommandError):
        _run(str(path))
    small = tmp_path / "small.txt"
    small.write_text(seed_text("000"), encoding="utf-8")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run(str(small), "--published", "14/05/2020")
    with pytest.raises(CommandError):
        _run(str(tmp_path / "missing.txt"))


def test_the_console_script_exits_non_zero(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "yipanqi.cli", "intake", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode != 0 and done.stderr.strip() and not done.stdout.strip()
