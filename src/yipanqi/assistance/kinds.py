"""The request kinds the platform ships with (loaded by a data migration; admins edit them afterwards).

Each kind: who may send and receive it (agency types), how it is routed, its fields as a JSON Schema (English keys,
Chinese titles: the form and the API show the titles), the documents it must carry, and its deadline policy. The
委托执行 defaults follow the rules: filed (受理) within 7 days of receipt; not finished within 6 months → escalated
to the receiving court's superior.
"""

from __future__ import annotations

COURT, PROCURATORATE, POLICE, JUSTICE = "court", "procuratorate", "police", "justice"
COMMITTEE, PRISON, LAWYERS, NOTARIES = "committee", "prison", "lawyers", "notaries"
LAW_ENFORCEMENT = [COURT, PROCURATORATE, POLICE]


def _text(title: str, *, long: bool = False, max_length: int = 200) -> dict:
    return {"type": "string", "title": title, "minLength": 1, "maxLength": 2000 if long else max_length}


def _choice(title: str, options: list[str]) -> dict:
    return {"type": "string", "title": title, "enum": options}


def _schema(required: list[str], **properties) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _kind(
    code,
    name,
    senders,
    receivers,
    schema,
    *,
    routing="any",
    attachments=(),
    sign=(1, "workdays"),
    accept=(3, "workdays"),
    finish=(30, "days"),
    urgent_hours=None,
    escalate=False,
    description="",
):
    return {
        "code": code,
        "name": name,
        "description": description,
        "sender_types": senders,
        "receiver_types": receivers,
        "routing": routing,
        "fields_schema": schema,
        "required_attachments": list(attachments),
        "sign_within": sign[0],
        "sign_unit": sign[1],
        "accept_within": accept[0],
        "accept_unit": accept[1],
        "finish_within": finish[0],
        "finish_unit": finish[1],
        "urgent_finish_hours": urgent_hours,
        "escalate_overdue": escalate,
    }


KINDS = [
    _kind(
        "investigation",
        "协查",
        [POLICE, PROCURATORATE, COURT, COMMITTEE],
        [POLICE, PROCURATORATE],
        _schema(
            ["subject", "matters"],
            subject=_text("协查对象"),
            matters=_text("协查事项", long=True),
            basis=_text("协查依据"),
        ),
        accept=(2, "workdays"),
        finish=(15, "days"),
        urgent_hours=24,
        description="警情、案情协查：核查人员、车辆、通讯、资金等信息。",
    ),
    _kind(
        "lead_transfer",
        "线索移送",
        [PROCURATORATE, POLICE, COURT, COMMITTEE, JUSTICE],
        [PROCURATORATE, POLICE, COURT],
        _schema(
            ["field", "content"],
            field=_choice("涉及领域", ["公益诉讼", "扫黑除恶", "职务犯罪", "经济犯罪", "其他"]),
            source=_text("线索来源"),
            content=_text("线索内容", long=True),
        ),
        finish=(30, "days"),
        description="将发现的公益诉讼、黑恶、职务犯罪等线索移送有管辖权的机关。",
    ),
    _kind(
        "evidence",
        "取证协作",
        LAW_ENFORCEMENT,
        LAW_ENFORCEMENT,
        _schema(
            ["target", "matters"],
            target=_text("取证对象"),
            matters=_text("取证事项", long=True),
            form=_choice("证据形式", ["书证", "物证", "电子数据", "证人证言", "视听资料", "其他"]),
        ),
        finish=(20, "workdays"),
        urgent_hours=72,
    ),
    _kind(
        "entrusted_execution",
        "委托执行",
        [COURT],
        [COURT],
        _schema(
            ["basis_number", "debtor", "applicant"],
            basis_number=_text("执行依据文书号"),
            debtor=_text("被执行人"),
            applicant=_text("申请执行人"),
            property_clues=_text("财产线索", long=True),
            amount=_text("执行标的"),
        ),
        routing="same_level",
        attachments=["委托执行函", "执行依据文书"],
        sign=(1, "workdays"),
        accept=(7, "days"),
        finish=(6, "months"),
        escalate=True,
        description="受托法院收到委托执行函后7日内立案；6个月内未执结的，报请其上级法院督促。",
    ),
    _kind(
        "court_matter",
        "事项委托（调查/送达/保全）",
        [COURT],
        [COURT],
        _schema(
            ["matter", "details"],
            matter=_choice("委托事项", ["调查", "送达", "保全"]),
            parties=_text("当事人"),
            details=_text("事项说明", long=True),
        ),
        attachments=["委托函"],
        finish=(30, "days"),
        urgent_hours=48,
    ),
    _kind(
        "cross_filing",
        "跨域立案",
        [COURT],
        [COURT],
        _schema(
            ["cause", "claims"],
            cause=_text("案由"),
            plaintiff=_text("原告"),
            defendant=_text("被告"),
            claims=_text("诉讼请求", long=True),
            amount=_text("标的额"),
        ),
        routing="jurisdiction",
        attachments=["起诉状"],
        accept=(7, "days"),
        finish=(15, "days"),
        description="当事人就近在异地法院提交立案材料，转有管辖权的法院立案。",
    ),
    _kind(
        "fugitive",
        "追逃协作",
        [POLICE, PROCURATORATE],
        [POLICE],
        _schema(
            ["person"],
            person=_text("在逃人员"),
            wanted_number=_text("网上追逃编号"),
            whereabouts=_text("可能藏匿地点", long=True),
        ),
        accept=(1, "workdays"),
        finish=(30, "days"),
        urgent_hours=48,
    ),
    _kind(
        "asset_control",
        "涉案财产查控",
        LAW_ENFORCEMENT,
        LAW_ENFORCEMENT,
        _schema(
            ["asset_type", "measure", "clues"],
            asset_type=_choice("财产类型", ["银行存款", "不动产", "车辆", "股权", "其他"]),
            measure=_choice("查控措施", ["查询", "冻结", "查封", "扣押"]),
            clues=_text("财产线索", long=True),
        ),
        attachments=["协助查控通知书"],
        accept=(1, "workdays"),
        finish=(15, "days"),
        urgent_hours=24,
    ),
    _kind(
        "community_correction",
        "社区矫正个案协调",
        [JUSTICE],
        [JUSTICE],
        _schema(
            ["subject", "matters"],
            subject=_text("社区矫正对象"),
            category=_choice("矫正类别", ["管制", "缓刑", "假释", "暂予监外执行"]),
            matters=_text("协调事项", long=True),
        ),
        finish=(15, "workdays"),
    ),
    _kind(
        "release_handover",
        "刑满释放衔接",
        [PRISON, JUSTICE],
        [JUSTICE],
        _schema(
            ["person", "release_on"],
            person=_text("服刑人员"),
            release_on={"type": "string", "format": "date", "title": "预计释放日期"},
            residence=_text("户籍地"),
            needs=_text("安置帮教需求", long=True),
        ),
        finish=(10, "workdays"),
    ),
    _kind(
        "notary_verification",
        "公证异地核查",
        [NOTARIES, JUSTICE],
        [NOTARIES, JUSTICE],
        _schema(["matter", "items"], matter=_text("公证事项"), items=_text("核查内容", long=True)),
        finish=(10, "workdays"),
    ),
    _kind(
        "lawyer_rights",
        "律师维权联动",
        [LAWYERS, JUSTICE],
        [LAWYERS, JUSTICE, COURT, PROCURATORATE, POLICE],
        _schema(
            ["lawyer", "obstruction"],
            lawyer=_text("律师姓名"),
            licence=_text("执业证号"),
            obstruction=_text("受阻情形", long=True),
        ),
        accept=(1, "workdays"),
        finish=(7, "workdays"),
        urgent_hours=24,
    ),
    _kind(
        "file_access",
        "卷宗查阅",
        [COURT, PROCURATORATE, LAWYERS],
        [COURT, PROCURATORATE],
        _schema(["reader", "scope"], reader=_text("查阅人"), scope=_text("查阅范围", long=True)),
        finish=(5, "workdays"),
    ),
]


def load_kinds(model) -> int:
    """Create the kinds that do not exist yet (by code); edits made by admins are kept. Returns how many."""
    created = 0
    for position, spec in enumerate(KINDS, start=1):
        _obj, made = model.objects.get_or_create(code=spec["code"], defaults={**spec, "position": position})
        created += made
    return created
