"""Demo data of the evidence log (``yipanqi demo``): a few deposits of 四川高院 and 重庆高院 — the hashes of documents
of a 委托执行 case, as their case handlers would deposit them — and the platform's own records anchored (the audit
trail of the whole demo, the assistance requests' attachments and receipts), so the log, its checkpoints and the
receipts have something to show. Idempotent: loading again deposits nothing new."""

from __future__ import annotations

import hashlib

from yipanqi.directory.models import User

from . import anchoring, services

# (depositor, document, media type, case): the digest is of the document's name, standing in for its file.
DEMO_DEPOSITS = [
    ("sc_court", "执行依据：（2026）川民终123号民事判决书.pdf", "application/pdf", "（2026）川执123号"),
    ("sc_court", "委托执行函.pdf", "application/pdf", "（2026）川执123号"),
    (
        "sc_court",
        "被执行人财产线索清单.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "（2026）川执123号",
    ),
    ("cq_court", "查封裁定书.pdf", "application/pdf", "（2026）渝执456号"),
    ("cq_court", "执行现场照片.jpg", "image/jpeg", "（2026）渝执456号"),
]


def load_evidence_demo(stdout=None) -> dict[str, int]:
    made = 0
    for username, document, media_type, case in DEMO_DEPOSITS:
        user = User.objects.select_related("agency").get(username=username)
        digest = hashlib.sha256(f"yipanqi demo evidence: {document}".encode()).hexdigest()
        result = services.deposit(
            acting_user=user,
            items=[{"hash": digest, "media_type": media_type, "case": case}],
            source="demo",
        )
        made += sum(1 for _deposit, created in result if created)
    counts = anchoring.anchor_all(settle=False)
    if stdout is not None:
        anchored = sum(counts.values())
        stdout.write(f"电子存证演示：新增存证{made}项，平台记录（审计日志、协作请求附件和回执）存证{anchored}项")
    return {"deposits": made, **counts}
