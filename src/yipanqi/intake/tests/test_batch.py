"""Batches: files (or one zip) stored in the batch's archive, the worker's task queued on commit, each document read
one after another with progress, unreadable ones recorded as failed, zip bombs refused."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yipanqi.core.models import AuditEvent
from yipanqi.intake import jobs, services
from yipanqi.intake.models import BatchStatus, DocumentStatus, IntakeBatch, IntakeDocument
from yipanqi.intake.tests.conftest import seed_text

pytestmark = pytest.mark.django_db

TASK = "yipanqi.intake.jobs.run_intake_batch"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SHORT = "四川省高级人民法院与重庆市高级人民法院签署执行协作协议，共同推进川渝执行协作，建立财产查控机制。\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_batch_of_three_files_is_queued_on_commit_and_read_one_after_another(
    owner, chengyu, django_capture_on_commit_callbacks
):
    files = [
        ("000.txt", seed_text("000").encode("utf-8")),
        ("scan.png", PNG),
        ("001.txt", seed_text("001").encode("utf-8")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.start_batch(acting_user=owner, name="川渝材料", files=files, circle=chengyu)

    batch.refresh_from_db()
    assert batch.name == "川渝材料" and batch.status == BatchStatus.QUEUED
    assert batch.total == 3 and batch.done == 0 and batch.percent == 0
    assert batch.uploaded_by == owner and batch.agency_id == owner.agency_id and batch.circle == chengyu
    assert batch.archive.name.startswith("intake/batches/") and batch.archive.name.endswith(".zip")
    with batch.archive.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        assert archive.namelist() == ["000.txt", "scan.png", "001.txt"]
    (task,) = DBTaskResult.objects.filter(task_path=TASK)
    assert task.status == TaskResultStatus.READY and task.args_kwargs["args"] == [batch.pk]
    assert not IntakeDocument.objects.exists()  # nothing is read before the worker runs
    assert AuditEvent.objects.get(action="intake.batch.start").object_id == str(batch.pk)

    assert jobs.run_intake_batch.call(batch.pk) == BatchStatus.DONE  # what the worker runs

    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.finished_at is not None and batch.error == ""
    assert batch.done == batch.total == 3 and batch.percent == 100
    documents = {d.name: d for d in batch.documents.all()}
    assert set(documents) == {"000.txt", "scan.png", "001.txt"}
    assert documents["000.txt"].status == documents["001.txt"].status == DocumentStatus.ANALYSED
    assert documents["000.txt"].circle == chengyu and documents["000.txt"].uploaded_by == owner
    assert documents["000.txt"].draft["agencies"] is not None and documents["000.txt"].reviewed["circle"] == chengyu.pk
    failed = documents["scan.png"]
    assert failed.status == DocumentStatus.FAILED and failed.error and failed.draft == {} and failed.text == ""
    with failed.file.open("rb") as handle:
        assert handle.read() == PNG  # kept, so the person sees what could not be read
    done_event = AuditEvent.objects.get(action="intake.batch.done")
    assert done_event.after == {"status": "done", "total": 3, "done": 3, "failed": 1}
    assert AuditEvent.objects.filter(action="intake.document.take_in").count() == 3

    services.run_batch(batch.pk)  # a task run again finds the batch done
    assert batch.documents.count() == 3


def test_progress_is_saved_after_each_document(owner, monkeypatch):
    seen = []
    take_in = services.take_in

    def watching(**kwargs):
        seen.append(IntakeBatch.objects.values_list("done", "status").get(pk=kwargs["batch"].pk))
        return take_in(**kwargs)

    monkeypatch.setattr(services, "take_in", watching)
    batch = services.start_batch(acting_user=owner, name="三份", files=[(f"{n}.txt", SHORT.encode()) for n in "abc"])
    services.run_batch(batch.pk)
    assert seen == [(0, "running"), (1, "running"), (2, "running")]
    assert IntakeBatch.objects.get(pk=batch.pk).done == 3


def test_a_zip_is_unpacked_without_folders_resource_forks_and_hidden_files(owner):
    gbk_name = "协议.txt".encode("gbk")  # a Windows archiver writes GBK names without the UTF-8 flag
    data = _zip(
        {
            "材料/": b"",
            "材料/一号.txt": SHORT.encode("utf-8"),
            "材料/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "__MACOSX/材料/._一号.txt": b"\x00\x05\x16\x07",
            "材料/Thumbs.db": b"\x00" * 20,
            "abcd.txt": SHORT.encode("gb18030"),
            "材料/图片.png": PNG,
        }
    ).replace(b"abcd.txt", gbk_name)  # same length: only the name's bytes change
    assert len(gbk_name) == len(b"abcd.txt")
    batch = services.start_batch(acting_user=owner, name="", files=[("材料.zip", data)])
    assert batch.total == 3 and batch.name == "材料.zip"
    with batch.archive.open("rb") as handle:
        assert handle.read() == data  # stored as it came

    services.run_batch(batch.pk)
    documents = {d.name: d for d in IntakeDocument.objects.filter(batch=batch)}
    assert set(documents) == {"材料/一号.txt", "协议.txt", "材料/图片.png"}
    assert documents["材料/一号.txt"].status == documents["协议.txt"].status == DocumentStatus.ANALYSED
    assert documents["协议.txt"].text == SHORT  # the GB18030 content decoded
    assert documents["材料/图片.png"].status == DocumentStatus.FAILED
    assert IntakeBatch.objects.get(pk=batch.pk).done == 3


def test_separate_files_keep_their_folders_and_same_names_are_told_apart(owner):
    files = [
        ("a/说明.txt", SHORT.encode()),
        ("b/说明.txt", SHORT.encode()),
        ("说明.txt", SHORT.encode()),
        ("说明.txt", SHORT.encode()),
        (".hidden.txt", SHORT.encode()),
        ("../../etc/说明.txt", SHORT.encode()),
    ]
    batch = services.start_batch(acting_user=owner, name="同名", files=files)
    with batch.archive.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        assert archive.namelist() == ["a/说明.txt", "b/说明.txt", "说明.txt", "说明 (2).txt", "etc/说明.txt"]
    assert batch.total == 5


@pytest.mark.parametrize(
    "members",
    [
        {f"{n}.txt": SHORT.encode() for n in range(services.MAX_BATCH_FILES + 1)},
        {"bomb.txt": b"\x00" * (services.MAX_BATCH_BYTES + 1)},
    ],
    ids=["too many members", "too big unpacked"],
)
def test_a_zip_bomb_is_refused_and_nothing_is_written(owner, members):
    data = _zip(members)
    assert len(data) < 5 * 1024 * 1024  # small as uploaded
    with pytest.raises(ValidationError) as refused:
        services.start_batch(acting_user=owner, name="bomb", files=[("bomb.zip", data)])
    assert refused.value.message_dict["files"]
    assert not IntakeBatch.objects.exists() and not DBTaskResult.objects.exists()


def test_too_many_separate_files_a_damaged_zip_and_an_empty_batch_are_refused(owner):
    with pytest.raises(ValidationError):
        services.start_batch(
            acting_user=owner, name="many", files=[(f"{n}.txt", b"x") for n in range(services.MAX_BATCH_FILES + 1)]
        )
    with pytest.raises(ValidationError) as damaged:
        services.start_batch(acting_user=owner, name="damaged", files=[("broken.zip", b"PK\x03\x04 not a zip")])
    assert damaged.value.message_dict["files"] == [
        translation.gettext("The zip archive is damaged and cannot be unpacked.")
    ]
    with pytest.raises(ValidationError):
        services.start_batch(acting_user=owner, name="empty", files=[("only/.DS_Store", b"\x00")])
    with pytest.raises(ValidationError):
        services.start_batch(acting_user=owner, name="empty zip", files=[("x.zip", _zip({"dir/": b""}))])
    assert not IntakeBatch.objects.exists()


def test_batches_need_a_person_of_an_agency_and_one_of_their_circles(outsider, chengyu):
    with pytest.raises(PermissionError):
        services.start_batch(acting_user=None, name="x", files=[("a.txt", SHORT.encode())])
    with pytest.raises(PermissionError):
        services.start_batch(acting_user=outsider, name="x", files=[("a.txt", SHORT.encode())], circle=chengyu)
    assert not IntakeBatch.objects.exists()


def test_a_document_the_analysis_fails_on_is_recorded_as_failed_and_the_others_are_read(owner, monkeypatch):
    analyse = services.analyse

    def fragile(original, **kwargs):
        if "崩溃" in original:
            raise KeyError("boom")
        return analyse(original, **kwargs)

    monkeypatch.setattr(services, "analyse", fragile)
    files = [("good.txt", SHORT.encode()), ("bad.txt", ("崩溃" + SHORT).encode()), ("also.txt", SHORT.encode())]
    batch = services.start_batch(acting_user=owner, name="x", files=files)
    services.run_batch(batch.pk)

    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.done == 3
    statuses = dict(batch.documents.values_list("name", "status"))
    assert statuses == {"good.txt": "analysed", "bad.txt": "failed", "also.txt": "analysed"}
    assert "KeyError" in batch.documents.get(name="bad.txt").error


def test_a_batch_whose_archive_is_gone_fails_with_the_error(owner):
    batch = services.start_batch(acting_user=owner, name="x", files=[("a.txt", SHORT.encode())])
    batch.archive.storage.delete(batch.archive.name)
    with pytest.raises(FileNotFoundError):
        services.run_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "FileNotFoundError" in batch.error
    assert batch.finished_at is not None and not batch.documents.exists()


def test_a_batch_run_again_resumes_after_the_documents_already_taken_in(owner):
    files = [(f"{n}.txt", SHORT.encode()) for n in "abc"]
    batch = services.start_batch(acting_user=owner, name="x", files=files)
    services.take_in(acting_user=owner, name="a.txt", data=SHORT.encode(), batch=batch)  # read before a restart
    services.run_batch(batch.pk)
    batch.refresh_from_db()
    assert sorted(batch.documents.values_list("name", flat=True)) == ["a.txt", "b.txt", "c.txt"]
    assert batch.done == batch.total == 3 and batch.status == BatchStatus.DONE


def test_the_admin_shows_batches_and_documents_read_only(web, admin_user, owner):
    batch = services.start_batch(acting_user=owner, name="川渝材料", files=[("a.txt", SHORT.encode())])
    services.run_batch(batch.pk)
    document = batch.documents.get()
    client = web(admin_user)
    for url in (
        "/admin/intake/intakebatch/",
        f"/admin/intake/intakebatch/{batch.pk}/change/",
        "/admin/intake/intakedocument/",
        f"/admin/intake/intakedocument/{document.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "川渝材料" in response.content.decode() or "a.txt" in response.content.decode()
    assert client.get("/admin/intake/intakedocument/add/").status_code == 403
    response = client.post(f"/admin/intake/intakedocument/{document.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and IntakeDocument.objects.filter(pk=document.pk).exists()
