"""Demo assistance requests: about three hundred requests between the agencies of the demo circles (成渝, 长三角,
京津冀) — courts, procuratorates, police, justice bureaus, prisons, notaries and lawyers — of every kind their types
allow, in every state, some near and some past their deadlines, and 委托执行 cases escalated after six months.

Written only through ``yipanqi.assistance.services``, each request once, by the people who would do it: an agency's
demo person where it has one (``sc_court`` for 四川高院, ``cq_court`` for 重庆高院, ``cd_court`` for 成都中院,
``sh_procurator`` for 上海市检察院, the coordinators for their 政法委), the system (``acting_user=None``) for every
other agency.

**The clocks.** The services stamp every step with the current time, and the loader runs in production code where no
clock can be faked. So each request is first played through the services at load time, then its history is moved
into the past: every step gets its own moment (a request sent 40 days ago, signed 6 hours later, accepted 2 days
after that …), written with bulk updates to the request's timestamps (created_at, sent_at, received_at, accepted_at,
answered_at, closed_at, paused_at), its events' ``at``, its hops, messages, attachments and receipts (whose payload
carries the moment, so their digest is taken again). The deadlines (sign_due_at, accept_due_at, finish_due_at) are
then worked out again by the deadline engine (``deadlines.due``, ``finish_clock``, ``shift`` for a pause) from the
moved moments, and ``due_at`` / ``warn_at`` stored with ``deadlines.set_current``. Moving every step by one offset per
request would leave seconds between sending and answering, and the analytics (time per stage, on-time rate) would
show nothing. Finally ``services.sweep`` runs once, as the worker would: it sends the deadline notifications and
escalates the 委托执行 cases unfinished six months after acceptance to the receiving court's superior.
The audit trail and notifications keep the moment they were written (the load).

Open requests are placed on their running clock on purpose: most green, some yellow (under 20% of the time left),
some red (past it). Each receiving agency has its own pace, so the on-time rates differ between agencies.

The plan is drawn from a seeded random generator: every load builds the same requests. Each request carries an
idempotency key ``demo-assistance-NNN`` of its sending agency; requests whose key exists are left alone, so running
the loader twice changes nothing. Agency names are public facts; every subject, party and text is our own invention
("某某" names, made-up companies and case numbers).

Needs the directory demo (``yipanqi.directory.demo.load_demo``) first.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, router, transaction
from django.utils import timezone, translation

from yipanqi.directory.models import Agency, Department, User

from . import deadlines, services
from .models import (
    AssistanceRequest,
    Attachment,
    EventKind,
    Receipt,
    RequestEvent,
    RequestHop,
    RequestKind,
    RequestMessage,
    Urgency,
)

KEY = "demo-assistance-{:03d}"
KEY_PREFIX = "demo-assistance-"
SEED = 20260521
HOUR = timedelta(hours=1)
OLDEST_DAYS = 320  # nothing starts earlier: the whole demo falls within the analytics' default 12 months

# The demo people who act for their agencies; every other agency acts as the system.
PEOPLE = {
    "四川省高级人民法院": "sc_court",
    "重庆市高级人民法院": "cq_court",
    "成都市中级人民法院": "cd_court",
    "上海市人民检察院": "sh_procurator",
    "中共四川省委政法委员会": "chengyu_coord",
    "中共上海市委政法委员会": "yrd_coord",
    "中共北京市委政法委员会": "jjj_coord",
}

# The department that writes or handles a kind, where the agency has it (directory demo departments).
DEPARTMENTS = {
    "entrusted_execution": ("执行局",),
    "court_matter": ("民事审判第一庭",),
    "cross_filing": ("立案庭",),
    "file_access": ("立案庭", "案件管理办公室"),
    "lead_transfer": ("第八检察部（公益诉讼）", "协调处"),
    "investigation": ("第一检察部", "刑事侦查总队", "执法监督处"),
    "evidence": ("第一检察部", "刑事侦查总队", "研究室"),
    "asset_control": ("执行局", "第一检察部"),
}


# --------------------------------------------------------------------------- routes: who sends what to whom


@dataclass(frozen=True)
class Route:
    """``count`` requests from ``sender`` to ``receiver``, their kinds taken in turn. ``stories`` fixes the stories
    (else the common deck deals them); ``forward_to`` is the agency a forwarded request goes on to."""

    sender: str
    receiver: str
    kinds: tuple[str, ...]
    count: int
    stories: tuple[str, ...] = ()
    forward_to: str = ""
    forward_reason: str = ""


ROUTES = (
    # 成渝: the two high courts (the demo users' inbox and outbox), both ways.
    Route(
        "四川省高级人民法院",
        "重庆市高级人民法院",
        ("entrusted_execution", "court_matter", "evidence", "asset_control", "file_access", "cross_filing"),
        40,
    ),
    Route(
        "重庆市高级人民法院",
        "四川省高级人民法院",
        ("entrusted_execution", "court_matter", "asset_control", "evidence", "file_access", "cross_filing"),
        34,
    ),
    Route(
        "四川省高级人民法院",
        "重庆市高级人民法院",
        ("cross_filing",),
        2,
        stories=("forwarded_closed", "forwarded_sent"),
        forward_to="重庆市渝中区人民法院",
        forward_reason="经审查，案涉纠纷由重庆市渝中区人民法院管辖，转该院立案。",
    ),
    # 成渝: intermediate courts — 委托执行 left unfinished past six months is escalated to the high court.
    Route(
        "成都市中级人民法院",
        "重庆市第一中级人民法院",
        ("entrusted_execution",),
        7,
        stories=("escalated", "escalated", "closed", "in_progress", "closed_late", "escalated", "answered"),
    ),
    Route(
        "重庆市第一中级人民法院",
        "成都市中级人民法院",
        ("entrusted_execution", "court_matter"),
        8,
        stories=("escalated", "closed", "received", "in_progress", "escalated", "answered", "sent", "closed"),
    ),
    Route("成都市中级人民法院", "重庆市第五中级人民法院", ("entrusted_execution", "court_matter"), 6),
    Route("成都市武侯区人民法院", "重庆市渝中区人民法院", ("cross_filing", "court_matter"), 4),
    Route("成都市锦江区人民法院", "成都市武侯区人民法院", ("court_matter",), 2),
    # 成渝: police, procuratorates, justice, lawyers, notaries, the 政法委.
    Route(
        "四川省公安厅",
        "重庆市公安局",
        ("investigation", "fugitive", "asset_control", "evidence"),
        14,
    ),
    Route(
        "重庆市公安局",
        "四川省公安厅",
        ("investigation", "fugitive", "evidence", "asset_control"),
        10,
    ),
    Route(
        "成都市公安局",
        "重庆市公安局",
        ("investigation",),
        3,
        stories=("forwarded_closed", "forwarded_in_progress", "forwarded_sent"),
        forward_to="重庆市公安局渝中区分局",
        forward_reason="协查对象户籍及居住地均在渝中区，转渝中区分局办理。",
    ),
    Route("成都市公安局", "重庆市公安局渝中区分局", ("investigation", "asset_control"), 4),
    Route("四川省人民检察院", "重庆市人民检察院", ("lead_transfer", "evidence", "file_access", "investigation"), 8),
    Route("重庆市人民检察院", "四川省人民检察院", ("lead_transfer", "evidence", "asset_control"), 6),
    Route("成都市人民检察院", "重庆市人民检察院第一分院", ("lead_transfer", "file_access"), 3),
    Route("四川省司法厅", "重庆市司法局", ("community_correction", "release_handover", "notary_verification"), 6),
    Route("重庆市司法局", "四川省司法厅", ("community_correction", "release_handover"), 5),
    Route("四川省监狱管理局", "重庆市司法局", ("release_handover",), 3),
    Route("重庆市公证协会", "四川省公证协会", ("notary_verification",), 2),
    Route("重庆市律师协会", "四川省司法厅", ("lawyer_rights",), 2),
    Route("四川省律师协会", "重庆市公安局", ("lawyer_rights",), 2),
    Route("中共四川省委政法委员会", "重庆市公安局", ("lead_transfer", "investigation"), 3),
    # 长三角.
    Route("上海市高级人民法院", "江苏省高级人民法院", ("entrusted_execution", "court_matter", "cross_filing"), 6),
    Route("江苏省高级人民法院", "浙江省高级人民法院", ("entrusted_execution", "asset_control", "court_matter"), 5),
    Route("浙江省高级人民法院", "安徽省高级人民法院", ("entrusted_execution", "court_matter"), 5),
    Route("安徽省高级人民法院", "上海市高级人民法院", ("entrusted_execution", "cross_filing", "file_access"), 5),
    Route(
        "南京市中级人民法院",
        "上海市第一中级人民法院",
        ("entrusted_execution",),
        4,
        stories=("escalated", "closed", "escalated", "received"),
    ),
    Route("杭州市中级人民法院", "合肥市中级人民法院", ("entrusted_execution", "court_matter"), 4),
    Route("上海市人民检察院", "江苏省人民检察院", ("lead_transfer", "evidence"), 7),
    Route("浙江省人民检察院", "上海市人民检察院", ("lead_transfer", "file_access"), 5),
    Route("安徽省人民检察院", "浙江省人民检察院", ("lead_transfer",), 2),
    Route("上海市公安局", "江苏省公安厅", ("investigation", "fugitive", "asset_control"), 8),
    Route("浙江省公安厅", "上海市公安局", ("investigation", "evidence"), 5),
    Route("杭州市公安局", "合肥市公安局", ("investigation", "fugitive"), 4),
    Route("安徽省公安厅", "浙江省公安厅", ("asset_control", "investigation"), 3),
    Route("上海市司法局", "安徽省司法厅", ("community_correction",), 3),
    Route("上海市监狱管理局", "安徽省司法厅", ("release_handover",), 2),
    Route("上海市公证协会", "浙江省公证协会", ("notary_verification",), 2),
    Route("江苏省律师协会", "上海市公安局", ("lawyer_rights",), 2),
    Route("中共上海市委政法委员会", "江苏省公安厅", ("lead_transfer",), 2),
    # 京津冀.
    Route("北京市高级人民法院", "河北省高级人民法院", ("entrusted_execution", "court_matter", "cross_filing"), 6),
    Route("天津市高级人民法院", "北京市高级人民法院", ("entrusted_execution", "asset_control"), 4),
    Route("河北省高级人民法院", "天津市高级人民法院", ("entrusted_execution", "court_matter"), 4),
    Route(
        "北京市第三中级人民法院",
        "石家庄市中级人民法院",
        ("entrusted_execution",),
        3,
        stories=("escalated", "closed", "in_progress"),
    ),
    Route("北京市公安局", "河北省公安厅", ("investigation", "fugitive", "asset_control"), 8),
    Route("天津市公安局", "北京市公安局", ("investigation", "evidence"), 4),
    Route("河北省公安厅", "天津市公安局", ("fugitive", "investigation"), 3),
    Route("北京市人民检察院", "河北省人民检察院", ("lead_transfer", "evidence"), 4),
    Route("北京市司法局", "河北省司法厅", ("community_correction", "release_handover"), 4),
    Route("天津市监狱管理局", "河北省司法厅", ("release_handover",), 2),
    Route("北京市律师协会", "天津市公安局", ("lawyer_rights",), 2),
    Route("中共北京市委政法委员会", "河北省公安厅", ("lead_transfer",), 2),
)


# --------------------------------------------------------------------------- stories: where a request ends up

# The steps of each story, after the draft is written. Open stories end on a running clock.
STORIES = {
    "draft": (),
    "sent": ("send",),
    "received": ("send", "sign"),
    "accepted": ("send", "sign", "accept"),
    "accepted_direct": ("send", "accept", "start"),
    "in_progress": ("send", "sign", "accept", "start"),
    "in_progress_thread": ("send", "sign", "accept", "start", "message_receiver", "message_sender"),
    "paused_received": ("send", "sign", "pause"),
    "paused_working": ("send", "sign", "accept", "start", "pause"),
    "answered": ("send", "sign", "accept", "start", "answer"),
    "closed": ("send", "sign", "accept", "answer", "close"),  # answering needs no "work started" first
    "closed_late": ("send", "sign", "accept", "answer", "close"),
    "closed_thread": ("send", "sign", "accept", "message_receiver", "answer", "close"),
    "closed_after_pause": ("send", "sign", "accept", "pause", "resume", "answer", "close"),
    "returned": ("send", "return"),
    "returned_signed": ("send", "sign", "return"),
    "returned_resent": ("send", "return", "resend", "sign", "accept", "answer", "close"),
    "withdrawn": ("send", "withdraw"),
    "withdrawn_draft": ("withdraw",),
    "extension_asked": ("send", "sign", "accept", "start", "ask_extension"),
    "extension_granted": ("send", "sign", "accept", "start", "ask_extension", "grant"),
    "extension_refused": ("send", "sign", "accept", "ask_extension", "refuse", "answer", "close"),
    "reopened": ("send", "sign", "accept", "answer", "reopen"),
    "escalated": ("send", "sign", "accept", "start"),
    "forwarded_sent": ("send", "forward"),
    "forwarded_in_progress": ("send", "forward", "sign", "accept", "start"),
    "forwarded_closed": ("send", "sign", "forward", "sign", "accept", "answer", "close"),
}

# Dealt in turn to the routes without stories of their own: every state, most requests finished or at work.
DECK = (
    "closed",
    "in_progress",
    "sent",
    "closed",
    "received",
    "answered",
    "returned",
    "in_progress_thread",
    "closed_thread",
    "accepted",
    "extension_asked",
    "closed",
    "paused_working",
    "sent",
    "closed_late",
    "in_progress",
    "withdrawn",
    "returned_resent",
    "draft",
    "closed",
    "received",
    "extension_granted",
    "accepted_direct",
    "paused_received",
    "closed_after_pause",
    "returned_signed",
    "reopened",
    "in_progress",
    "extension_refused",
    "withdrawn_draft",
    "answered",
    "closed",
)

# The stories that end with a clock running (sign, accept or finish), and where "now" falls on it.
RUNNING_STORIES = frozenset(
    {
        "sent",
        "received",
        "accepted",
        "accepted_direct",
        "in_progress",
        "in_progress_thread",
        "extension_asked",
        "extension_granted",
        "reopened",
        "escalated",
        "forwarded_sent",
        "forwarded_in_progress",
    }
)
# Where "now" falls on an open request's running clock (share of the clock gone): green, green, yellow, red in turn.
PLACES = ((0.15, 0.6), (0.2, 0.7), (0.84, 0.95), (1.2, 2.2))
ESCALATED_PLACE = (1.2, 1.45)  # 委托执行: 6 months + 36 to 80 days after acceptance

RETURN_REASONS = (
    ("未附生效法律文书及生效证明，请补齐后重新发送。", 7),
    ("经审查，不属于本单位管辖，请向有管辖权的单位提出。", 6),
    ("协查对象身份信息不完整，缺少公民身份号码。", 5),
    ("被执行人财产线索不明确，请补充具体财产信息后再行委托。", 4),
    ("委托事项超出本单位职权范围。", 3),
    ("同一事项已由其他单位办理，请勿重复发送。", 3),
    ("送达地址不详，无法办理。", 2),
    ("缺少审批表及承办人联系方式。", 2),
    ("线索内容过于笼统，无法开展核查。", 2),
    ("附件文书与请求事项不一致，请核对后重新发送。", 1),
    ("请求函未加盖单位印章。", 1),
    ("案件已移送审查起诉，请直接与检察机关联系。", 1),
)
PAUSE_REASONS = (
    "请补充被执行人身份证明及最新住所地材料。",
    "请补充调取证据的法律手续（调取证据通知书）。",
    "请补充委托事项涉及的当事人联系方式。",
    "请提供协查对象的照片及户籍信息。",
    "请补充财产线索的来源说明和权属证明。",
)
RESUME_NOTES = ("补充材料已上传，请查收。", "已按要求补充，原件随后邮寄。", "材料已补齐，请继续办理。")
EXTENSION_REASONS = (
    "被执行人名下财产涉及多地查封，需协调处置，申请延长办理期限。",
    "调取银行交易流水需经总行审批，申请延长期限。",
    "需赴外地调查核实，申请延长办理期限。",
    "涉案人员尚未到案，申请延长协查期限。",
)
WITHDRAW_REASONS = (
    "当事人已自动履行，撤回委托。",
    "案件已撤销，撤回本次请求。",
    "已通过其他渠道取得所需材料，撤回请求。",
    "",
)
REOPEN_REASONS = (
    "答复未涉及车辆通行记录部分，请补充核查。",
    "答复所附文书缺页，请补充完整后重新答复。",
    "执行款尚未划转到账，请继续办理。",
)
RECEIVER_MESSAGES = (
    "已安排承办人办理，预计本周内反馈初步情况。",
    "请提供被执行人最新联系电话，以便及时送达。",
    "相关银行已回复，正在整理查询结果。",
)
SENDER_MESSAGES = (
    "收到，联系电话已补充在附件中。",
    "感谢配合，请尽快反馈办理结果。",
    "如需当面沟通，可随时与我院执行局联系。",
)
ANSWERS = {
    "investigation": "已完成协查：协查对象在本地无暂住登记，名下两个银行账户的交易流水已调取，随函附后。",
    "lead_transfer": "线索已接收并登记，经初步核查具备立案条件，已转相关部门依法办理，办理结果另行反馈。",
    "evidence": "已按要求调取相关书证及电子数据，制作调取笔录，随函移送。",
    "entrusted_execution": "已立案执行，冻结被执行人银行存款并扣划执行款，执行款已划转至委托法院账户。",
    "court_matter": "委托事项已办理完毕，送达回证及调查笔录随函寄回。",
    "cross_filing": "已审查立案材料，符合立案条件，已登记立案并通知当事人。",
    "fugitive": "在逃人员已于本地抓获，现羁押于本市看守所，请派员办理移交手续。",
    "asset_control": "已对涉案账户采取冻结措施，冻结期限一年，冻结回执随函附后。",
    "community_correction": "已与社区矫正对象见面谈话，落实监管措施，并明确联系人。",
    "release_handover": "已完成衔接，安排社区工作人员接回，落实安置帮教措施。",
    "notary_verification": "经核查，所涉公证书系本地公证机构出具，内容与存档一致。",
    "lawyer_rights": "已约谈相关单位负责人，律师会见已安排，处理情况已告知律师本人。",
    "file_access": "已同意查阅，电子卷宗已开通查阅权限，期限十五日。",
}


# --------------------------------------------------------------------------- made-up parties and fields

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
TRADES = (
    "建材",
    "商贸",
    "物流",
    "置业",
    "科技",
    "餐饮管理",
    "汽车销售",
    "农业开发",
    "建筑工程",
    "医药",
    "供应链",
    "装饰工程",
)
PLACES_BY_PROVINCE = {
    "510000": ("成都", "绵阳", "德阳", "宜宾", "南充"),
    "500000": ("重庆", "万州", "涪陵", "永川", "合川"),
    "310000": ("上海",),
    "320000": ("南京", "苏州", "无锡", "常州"),
    "330000": ("杭州", "宁波", "嘉兴", "湖州"),
    "340000": ("合肥", "芜湖", "马鞍山", "滁州"),
    "110000": ("北京",),
    "120000": ("天津",),
    "130000": ("石家庄", "保定", "廊坊", "唐山"),
}
ABBREVIATIONS = {
    "510000": "川",
    "500000": "渝",
    "310000": "沪",
    "320000": "苏",
    "330000": "浙",
    "340000": "皖",
    "110000": "京",
    "120000": "津",
    "130000": "冀",
}
PLATE_LETTERS = "ABCDEFGHJK"


class _Names:
    """Made-up parties: "张某某", "重庆某建材有限公司"."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(("某", "某某"))

    def company(self, province: str) -> str:
        return f"{self.rng.choice(PLACES_BY_PROVINCE.get(province, ('某地',)))}某{self.rng.choice(TRADES)}有限公司"

    def party(self, province: str) -> str:
        return self.company(province) if self.rng.random() < 0.55 else self.person()

    def amount(self) -> str:
        return f"{self.rng.randint(3, 900) * 1000 + self.rng.choice((0, 500)):,}元"

    def plate(self, province: str) -> str:
        letters = "".join(self.rng.choice("0123456789" + PLATE_LETTERS) for _ in range(5))
        return f"{ABBREVIATIONS.get(province, '川')}{self.rng.choice(PLATE_LETTERS)}·{letters}"


@dataclass
class Content:
    title: str
    case_number: str
    parties: str
    fields: dict


def _content(code: str, names: _Names, sender: Agency, receiver: Agency, year: int) -> Content:
    """Subject, case number (案号), parties and the kind's fields, all made up."""
    rng = names.rng
    home, away = sender.region.path[1:7], receiver.region.path[1:7]
    abbr = ABBREVIATIONS.get(home, "")
    serial = rng.randint(10, 9999)
    if code == "investigation":
        person = names.person()
        matters = rng.choice(
            (
                ("银行账户交易流水", "调取其名下银行账户近一年的交易流水及开户资料。"),
                ("住宿及暂住登记情况", "核查其在本地的旅馆住宿记录和暂住登记信息。"),
                ("车辆通行轨迹", f"查询{names.plate(home)}号牌车辆近三个月的卡口通行记录。"),
                ("通讯及网络账号信息", "核查其使用的手机号码机主信息及关联网络账号注册信息。"),
            )
        )
        return Content(
            f"关于协查{person}{matters[0]}的函",
            f"{abbr}公刑立字〔{year}〕{serial:04d}号",
            person,
            {"subject": f"{person}（涉嫌电信网络诈骗）", "matters": matters[1], "basis": "已立案侦查，附立案决定书"},
        )
    if code == "lead_transfer":
        area, content = rng.choice(
            (
                ("公益诉讼", "跨界河段发现疑似非法排污口，排放物经初步检测超标，排污单位位于贵方辖区。"),
                ("扫黑除恶", "群众举报某砂石经营者以暴力手段垄断当地砂石运输市场，主要人员居住在贵方辖区。"),
                ("经济犯罪", "办案中发现某公司以高息为诱饵向社会公众吸收资金，涉案公司注册地在贵方辖区。"),
                ("职务犯罪", "办案中发现某国有企业工作人员涉嫌利用职务便利收受财物，其工作单位在贵方辖区。"),
            )
        )
        return Content(
            f"关于移送{area}案件线索的函",
            f"{abbr}检移〔{year}〕{serial % 300 + 1}号",
            "",
            {"field": area, "source": "办案中发现", "content": content},
        )
    if code == "evidence":
        target = names.company(away)
        return Content(
            f"关于协助调取{target}相关证据的函",
            f"{abbr}取证〔{year}〕{serial:04d}号",
            target,
            {
                "target": target,
                "matters": "调取该公司2025年度的购销合同、发票及记账凭证复印件并加盖公章。",
                "form": rng.choice(("书证", "电子数据", "证人证言")),
            },
        )
    if code == "entrusted_execution":
        debtor, applicant = names.company(away), names.company(home)
        return Content(
            f"委托执行：{debtor}",
            f"（{year}）{abbr}执{serial}号",
            f"{applicant}；{debtor}",
            {
                "basis_number": f"（{year - 1}）{abbr}民终{rng.randint(100, 3999)}号",
                "debtor": debtor,
                "applicant": applicant,
                "property_clues": "被执行人在受托法院辖区有银行存款及一处商铺，详见财产线索清单。",
                "amount": names.amount(),
            },
        )
    if code == "court_matter":
        matter = rng.choice(("调查", "送达", "保全"))
        party = names.party(away)
        details = {
            "调查": "调查核实当事人在当地的不动产登记情况。",
            "送达": "向受送达人送达起诉状副本、应诉通知书及开庭传票。",
            "保全": "依裁定查封被申请人名下位于贵方辖区的房产一套。",
        }[matter]
        return Content(
            f"关于委托{matter}的函（{party}）",
            f"（{year}）{abbr}民初{serial}号",
            party,
            {"matter": matter, "parties": party, "details": details},
        )
    if code == "cross_filing":
        plaintiff, defendant = names.party(home), names.company(away)
        cause = rng.choice(("买卖合同纠纷", "民间借贷纠纷", "建设工程施工合同纠纷", "劳务合同纠纷"))
        return Content(
            f"跨域立案：{plaintiff}诉{defendant}{cause}",
            "",
            f"{plaintiff}；{defendant}",
            {
                "cause": cause,
                "plaintiff": plaintiff,
                "defendant": defendant,
                "claims": "判令被告支付货款及逾期付款利息，并承担本案诉讼费用。",
                "amount": names.amount(),
            },
        )
    if code == "fugitive":
        person = names.person()
        return Content(
            f"关于协助抓捕在逃人员{person}的函",
            f"{abbr}公刑立字〔{year}〕{serial:04d}号",
            person,
            {
                "person": person,
                "wanted_number": f"T{home}{year}{rng.randint(10000000, 99999999)}",
                "whereabouts": "据掌握，其近期可能藏匿于贵方辖区城郊结合部的出租屋内。",
            },
        )
    if code == "asset_control":
        asset, measure = rng.choice((("银行存款", "冻结"), ("不动产", "查封"), ("车辆", "扣押"), ("股权", "冻结")))
        owner = names.party(away)
        return Content(
            f"关于协助{measure}{owner}名下{asset}的函",
            f"（{year}）{abbr}执保{serial}号",
            owner,
            {"asset_type": asset, "measure": measure, "clues": f"{owner}名下{asset}位于贵方辖区，详见查控清单。"},
        )
    if code == "community_correction":
        person = names.person()
        category = rng.choice(("缓刑", "假释", "暂予监外执行", "管制"))
        return Content(
            f"关于社区矫正对象{person}执行地变更的协调函",
            f"{abbr}司矫〔{year}〕{serial % 200 + 1}号",
            person,
            {"subject": person, "category": category, "matters": "该对象因工作原因申请变更执行地，请核实居住地情况。"},
        )
    if code == "release_handover":
        person = names.person()
        release_on = date(year, 1, 1) + timedelta(days=rng.randint(30, 330))
        return Content(
            f"关于刑满释放人员{person}衔接帮教的函",
            f"{abbr}狱衔〔{year}〕{serial % 200 + 1}号",
            person,
            {
                "person": person,
                "release_on": release_on.isoformat(),
                "residence": rng.choice(PLACES_BY_PROVINCE.get(away, ("某地",))),
                "needs": "无固定住所，需协助落实临时安置和就业帮扶。",
            },
        )
    if code == "notary_verification":
        party = names.person()
        return Content(
            f"关于核查{party}相关公证书真实性的函",
            f"{abbr}公证核〔{year}〕{serial % 300 + 1}号",
            party,
            {"matter": "继承公证", "items": "核查所附公证书是否由贵方辖区公证机构出具及内容是否一致。"},
        )
    if code == "lawyer_rights":
        lawyer = names.person()
        return Content(
            f"关于{lawyer}律师会见受阻的联动处理函",
            f"{abbr}律维〔{year}〕{serial % 100 + 1}号",
            lawyer,
            {
                "lawyer": lawyer,
                "licence": f"1{home[:2]}01{year}{rng.randint(10000000, 99999999)}",
                "obstruction": "律师持三证申请会见，看守所以案件特殊为由未予安排。",
            },
        )
    if code == "file_access":
        case = f"（{year - 1}）{ABBREVIATIONS.get(away, '')}民初{rng.randint(100, 9999)}号"
        return Content(
            f"关于查阅{case}案卷宗的函",
            case,
            "",
            {"reader": f"{names.person()}（承办法官）", "scope": "查阅该案全部诉讼卷宗及证据材料。"},
        )
    raise LookupError(f"the assistance demo has no content for kind {code!r}")


def _letter(label: str, request: AssistanceRequest) -> SimpleUploadedFile:
    """A required document as a small text file: the letter's heading and the request's particulars."""
    lines = [label, "", request.title, request.case_number, "", *(f"{k}：{v}" for k, v in request.fields.items())]
    lines += ["", f"{request.sender.name}（演示数据）"]
    body = "\n".join(line for line in lines if line is not None).encode("utf-8")
    return SimpleUploadedFile(f"{label}.txt", body, content_type="text/plain")


# --------------------------------------------------------------------------- the plan of one request


@dataclass
class Step:
    action: str
    gap: timedelta  # after the previous step
    text: str = ""
    at: datetime | None = None


@dataclass
class Plan:
    number: int
    key: str
    route: Route
    kind: RequestKind
    sender: Agency
    receiver: Agency
    story: str
    urgent: bool
    steps: list[Step]
    created_gap: timedelta  # from the draft to the first step
    tail: timedelta = timedelta(0)  # from the last step to now
    created_at: datetime | None = None
    request_id: int | None = None


def _clock_hours(amount: int, unit: str) -> float:
    """A clock's length in hours, roughly (a working day counts 1.4 calendar days): for placing steps on it."""
    return {"hours": 1, "days": 24, "workdays": 33.6, "months": 730}[unit] * amount


def _clocks(kind: RequestKind, urgent: bool) -> dict[str, float]:
    finish = (
        float(kind.urgent_finish_hours)
        if urgent and kind.urgent_finish_hours
        else _clock_hours(kind.finish_within, kind.finish_unit)
    )
    return {
        "sign": max(_clock_hours(kind.sign_within, kind.sign_unit), 8.0),
        "accept": max(_clock_hours(kind.accept_within, kind.accept_unit), 8.0),
        "finish": finish,
    }


EVENT_OF = {  # the event each step leaves
    "send": EventKind.SENT,
    "resend": EventKind.SENT,
    "sign": EventKind.SIGNED,
    "accept": EventKind.ACCEPTED,
    "start": EventKind.STARTED,
    "answer": EventKind.ANSWERED,
    "close": EventKind.CLOSED,
    "return": EventKind.RETURNED,
    "withdraw": EventKind.WITHDRAWN,
    "forward": EventKind.FORWARDED,
    "pause": EventKind.PAUSED,
    "resume": EventKind.RESUMED,
    "ask_extension": EventKind.EXTENSION_REQUESTED,
    "grant": EventKind.EXTENSION_GRANTED,
    "refuse": EventKind.EXTENSION_REFUSED,
    "reopen": EventKind.REOPENED,
    "message_receiver": EventKind.MESSAGE,
    "message_sender": EventKind.MESSAGE,
}
CLOCK_STARTS = {"send": "sign", "resend": "sign", "forward": "sign", "sign": "accept", "accept": "finish"}
CLOCK_STARTS["reopen"] = "finish"


class _Planner:
    """Deals kinds, stories, urgency, texts and the time between steps, from one seeded generator."""

    def __init__(self, kinds: dict[str, RequestKind], agencies: dict[str, Agency], people: set[str]):
        self.rng = random.Random(SEED)
        self.people = people
        self.names = _Names(self.rng)
        self.kinds = kinds
        self.agencies = agencies
        self.deck = self._cycle(DECK)
        self.places = self._cycle(PLACES)
        self.reasons = [reason for reason, weight in RETURN_REASONS for _ in range(weight)]
        self.pace: dict[str, float] = {}  # chance that a receiving agency misses a clock

    @staticmethod
    def _cycle(items) -> Iterator:
        while True:
            yield from items

    def _late(self, receiver: str) -> bool:
        if receiver not in self.pace:
            self.pace[receiver] = self.rng.choice((0.04, 0.1, 0.1, 0.2, 0.35))
        return self.rng.random() < self.pace[receiver]

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))

    def plans(self) -> list[Plan]:
        plans, number = [], 0
        for route in ROUTES:
            stories = self._cycle(route.stories) if route.stories else None
            for index in range(route.count):
                number += 1
                kind = self.kinds[route.kinds[index % len(route.kinds)]]
                story = next(stories) if stories else next(self.deck)
                plans.append(self.plan(number, route, kind, story))
        return plans

    def plan(self, number: int, route: Route, kind: RequestKind, story: str) -> Plan:
        urgent = bool(kind.urgent_finish_hours) and story != "escalated" and self.rng.random() < 0.3
        clocks = _clocks(kind, urgent)
        late = story == "closed_late"
        steps = []
        for action in STORIES[story]:
            if action == "message_receiver" and route.receiver not in self.people:
                continue  # only a person writes in the thread for the receiver (the system writes as the sender)
            steps.append(Step(action, self._gap(action, clocks, route.receiver, late), self._text(action, kind)))
        plan = Plan(
            number=number,
            key=KEY.format(number),
            route=route,
            kind=kind,
            sender=self.agencies[route.sender],
            receiver=self.agencies[route.receiver],
            story=story,
            urgent=urgent,
            steps=steps,
            created_gap=self.hours(0.5, 30),
        )
        plan.tail = self._tail(plan, clocks)
        return plan

    def _gap(self, action: str, clocks: dict[str, float], receiver: str, late: bool) -> timedelta:
        """Time since the previous step: within the clock it answers, or past it when the agency is late."""
        rng = self.rng
        if action in ("sign", "accept"):
            clock = clocks[action]
            share = rng.uniform(1.2, 2.5) if late or self._late(receiver) else rng.uniform(0.05, 0.7)
            return timedelta(hours=clock * share)
        if action == "answer":
            share = rng.uniform(1.05, 1.5) if late or self._late(receiver) else rng.uniform(0.25, 0.85)
            return timedelta(hours=clocks["finish"] * share)
        spans = {
            "send": (0.5, 24),
            "resend": (20, 120),
            "start": (0.2, 6),
            "close": (2, 96),
            "return": (2, 40),
            "withdraw": (2, 72),
            "forward": (2, 30),
            "pause": (4, 48),
            "resume": (24, 200),
            "ask_extension": (24, 120),
            "grant": (4, 48),
            "refuse": (4, 48),
            "reopen": (24, 120),
            "message_receiver": (2, 48),
            "message_sender": (1, 24),
        }
        low, high = spans[action]
        if action == "start":  # an urgent clock of 24 hours leaves no day for starting
            high = min(high, clocks["finish"] / 10)
            low = min(low, high / 2)
        return self.hours(low, high)

    def _text(self, action: str, kind: RequestKind) -> str:
        rng = self.rng
        if action == "return":
            return rng.choice(self.reasons)
        choices = {
            "pause": PAUSE_REASONS,
            "resume": RESUME_NOTES,
            "ask_extension": EXTENSION_REASONS,
            "withdraw": WITHDRAW_REASONS,
            "reopen": REOPEN_REASONS,
            "message_receiver": RECEIVER_MESSAGES,
            "message_sender": SENDER_MESSAGES,
        }.get(action)
        if choices:
            return rng.choice(choices)
        if action == "answer":
            return ANSWERS[kind.code]
        return ""

    def _tail(self, plan: Plan, clocks: dict[str, float]) -> timedelta:
        """From the last step to now. An open request: so that now falls where ``PLACES`` says on its running clock
        (the steps after the clock started are squeezed in if they would not fit). Otherwise: up to 150 days."""
        rng = self.rng
        if plan.story.startswith("paused"):
            return self.hours(10, 150)
        if plan.story not in RUNNING_STORIES:
            total = plan.created_gap + sum((s.gap for s in plan.steps), timedelta(0))
            room = timedelta(days=OLDEST_DAYS) - total
            return min(self.hours(24, 150 * 24), max(room, HOUR))
        started = max(i for i, step in enumerate(plan.steps) if step.action in CLOCK_STARTS)
        clock = clocks[CLOCK_STARTS[plan.steps[started].action]]
        low, high = ESCALATED_PLACE if plan.story == "escalated" else next(self.places)
        if plan.story == "extension_asked":
            low, high = PLACES[2]  # asked for more time near the deadline
        elapsed = timedelta(hours=clock * rng.uniform(low, high))
        if plan.story != "escalated" and elapsed > timedelta(hours=clock):  # late, but not by more than six weeks
            elapsed = min(elapsed, timedelta(hours=clock) + self.hours(2, 42 * 24))
        after = plan.steps[started + 1 :]
        spent = sum((step.gap for step in after), timedelta(0))
        if spent > elapsed * 0.8:
            factor = (elapsed * 0.8) / spent
            for step in after:
                step.gap = step.gap * factor
            spent = sum((step.gap for step in after), timedelta(0))
        return max(elapsed - spent, timedelta(minutes=20))


# --------------------------------------------------------------------------- the loader


class _Loader:
    def __init__(self, stdout=None):
        self.stdout = stdout
        names = {name for route in ROUTES for name in (route.sender, route.receiver, route.forward_to) if name}
        found: dict[str, list[Agency]] = {}
        for agency in Agency.objects.filter(name__in=names).select_related("region"):
            found.setdefault(agency.name, []).append(agency)
        missing = sorted(name for name in names if len(found.get(name, [])) != 1)
        if missing:
            raise LookupError(f"the assistance demo needs the directory demo first; missing: {'、'.join(missing)}")
        self.agencies = {name: agencies[0] for name, agencies in found.items()}
        self.kinds = {kind.code: kind for kind in RequestKind.objects.all()}
        users = User.objects.filter(username__in=PEOPLE.values()).select_related("agency", "department")
        by_username = {user.username: user for user in users}
        self.people = {
            name: by_username[username]
            for name, username in PEOPLE.items()
            if username in by_username and name in self.agencies
        }
        self.departments = {
            (d.agency_id, d.name): d for d in Department.objects.filter(agency__in=list(self.agencies.values()))
        }

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def person(self, agency: Agency) -> User | None:
        return self.people.get(agency.name)

    def department(self, agency: Agency, kind: RequestKind) -> Department | None:
        for name in DEPARTMENTS.get(kind.code, ()):
            department = self.departments.get((agency.pk, name))
            if department is not None:
                return department
        return None

    def load(self, now: datetime) -> dict[str, int]:
        plans = _Planner(self.kinds, self.agencies, set(self.people)).plans()
        taken = set(
            AssistanceRequest.objects.filter(idempotency_key__startswith=KEY_PREFIX).values_list(
                "idempotency_key", flat=True
            )
        )
        todo = [plan for plan in plans if plan.key not in taken]
        if not todo:
            self.say(f"协作请求演示：{len(plans)}件演示请求已存在，未改动")
            return {"requests": 0, "escalated": 0}
        for plan in todo:
            self.play(plan, now)
        _Timeline(todo, now).write()
        swept = services.sweep(now)
        self.say(
            f"协作请求演示：已生成{len(todo)}件协作请求（成渝、长三角、京津冀），"
            f"{swept['escalated']}件超期委托执行已报上级法院督促"
        )
        return {"requests": len(todo), "escalated": swept["escalated"]}

    def play(self, plan: Plan, now: datetime) -> None:
        """The request's story through the services, each step by the side that takes it."""
        sender, receiver, kind = plan.sender, plan.receiver, plan.kind
        by_sender = self.person(sender)
        year = timezone.localtime(now - timedelta(days=60)).year
        content = _content(kind.code, _Names(random.Random(f"{SEED}-{plan.number}")), sender, receiver, year)
        extra = {}
        department = self.department(sender, kind)
        if department is not None:
            extra["sender_department"] = department
        if kind.routing == "jurisdiction":
            extra["target_region"] = (self.agencies.get(plan.route.forward_to) or receiver).region
        request = services.create_request(
            acting_user=by_sender,
            kind=kind,
            sender=sender,
            receiver=receiver,
            title=content.title,
            case_number=content.case_number,
            parties=content.parties,
            urgency=Urgency.URGENT if plan.urgent else Urgency.NORMAL,
            fields=content.fields,
            idempotency_key=plan.key,
            **extra,
        )
        for label in kind.required_attachments:
            services.attach(acting_user=by_sender, request=request, uploaded=_letter(label, request), label=label)
        plan.request_id = request.pk
        for step in plan.steps:
            holder = request.receiver  # who has it now (forwarding changes it)
            by_holder = self.person(holder)
            action = step.action
            if action in ("send", "resend"):
                request = services.send(acting_user=by_sender, request=request)
            elif action == "sign":
                request = services.sign(acting_user=by_holder, request=request)
            elif action == "accept":
                request = services.accept(
                    acting_user=by_holder, request=request, department=self.department(holder, kind), assignee=by_holder
                )
            elif action == "start":
                request = services.start(acting_user=by_holder, request=request)
            elif action == "answer":
                request = services.answer(acting_user=by_holder, request=request, result=step.text)
            elif action == "close":
                request = services.close(acting_user=by_sender, request=request)
            elif action == "return":
                request = services.return_request(acting_user=by_holder, request=request, reason=step.text)
            elif action == "withdraw":
                request = services.withdraw(acting_user=by_sender, request=request, reason=step.text)
            elif action == "forward":
                request = services.forward(
                    acting_user=by_holder,
                    request=request,
                    to=self.agencies[plan.route.forward_to],
                    reason=plan.route.forward_reason,
                )
            elif action == "pause":
                request = services.pause(acting_user=by_holder, request=request, reason=step.text)
            elif action == "resume":
                request = services.resume(acting_user=by_sender, request=request, note=step.text)
            elif action == "ask_extension":
                request = services.request_extension(
                    acting_user=by_holder, request=request, days=_extension_days(kind), reason=step.text
                )
            elif action in ("grant", "refuse"):
                request = services.decide_extension(acting_user=by_sender, request=request, grant=action == "grant")
            elif action == "reopen":
                request = services.reopen(acting_user=by_sender, request=request, reason=step.text)
            elif action == "message_receiver":
                services.post_message(acting_user=by_holder, request=request, text=step.text)
            elif action == "message_sender":
                services.post_message(acting_user=by_sender, request=request, text=step.text)
            else:  # pragma: no cover - a story names an unknown step
                raise LookupError(f"unknown demo step {action!r}")


def _extension_days(kind: RequestKind) -> int:
    """The extension asked for: a month for a long clock, a week for a short one (within the kind's longest)."""
    days = 30 if kind.finish_unit == "months" or kind.finish_within >= 30 else 7
    return min(days, kind.max_extension_days)


# --------------------------------------------------------------------------- moving the histories into the past


class _Timeline:
    """Give every step of every request its own moment in the past and store it (see the module's docstring)."""

    def __init__(self, plans: list[Plan], now: datetime):
        self.plans = {plan.request_id: plan for plan in plans}
        self.now = now
        for plan in plans:
            total = plan.created_gap + sum((s.gap for s in plan.steps), timedelta(0)) + plan.tail
            moment = now - total
            plan.created_at = moment
            moment += plan.created_gap
            for step in plan.steps:
                moment += step.gap
                step.at = moment

    def write(self) -> None:
        ids = list(self.plans)
        self._events(ids)
        self._hops(ids)
        self._children(ids)
        self._requests(ids)

    def _events(self, ids: list[int]) -> None:
        events = list(RequestEvent.objects.filter(request_id__in=ids).order_by("request_id", "id"))
        by_request: dict[int, list[RequestEvent]] = {}
        for event in events:
            by_request.setdefault(event.request_id, []).append(event)
        self.event_at: dict[int, datetime] = {}
        for request_id, plan in self.plans.items():
            expected = [EventKind.CREATED, *(EVENT_OF[step.action] for step in plan.steps)]
            moments = [plan.created_at, *(step.at for step in plan.steps)]
            found = by_request.get(request_id, [])
            if [event.kind for event in found] != list(expected):
                raise AssertionError(
                    f"demo request {plan.key}: events {[e.kind for e in found]} do not follow its story {plan.story}"
                )
            for event, moment in zip(found, moments, strict=True):
                event.at = moment
                self.event_at[event.pk] = moment
        _update_rows(RequestEvent, ["at"], events)

    def _hops(self, ids: list[int]) -> None:
        hops = list(RequestHop.objects.filter(request_id__in=ids).order_by("request_id", "id"))
        by_request: dict[int, list[RequestHop]] = {}
        for hop in hops:
            by_request.setdefault(hop.request_id, []).append(hop)
        for request_id, plan in self.plans.items():
            moments = [step.at for step in plan.steps if step.action in ("send", "resend", "forward")]
            for hop, moment in zip(by_request.get(request_id, []), moments, strict=True):
                hop.at = moment
        _update_rows(RequestHop, ["at"], hops)

    def _children(self, ids: list[int]) -> None:
        receipts = list(Receipt.objects.filter(request_id__in=ids))
        for receipt in receipts:
            moment = self.event_at[receipt.event_id]
            receipt.created_at = moment
            receipt.payload = {**receipt.payload, "at": moment.isoformat()}
            receipt.digest = hashlib.sha256(services.canonical(receipt.payload)).hexdigest()
        _update_rows(Receipt, ["created_at", "payload", "digest"], receipts)

        messages = list(RequestMessage.objects.filter(request_id__in=ids).order_by("request_id", "id"))
        by_request: dict[int, list[RequestMessage]] = {}
        for message in messages:
            by_request.setdefault(message.request_id, []).append(message)
        for request_id, plan in self.plans.items():
            moments = [step.at for step in plan.steps if step.action.startswith("message_")]
            for message, moment in zip(by_request.get(request_id, []), moments, strict=True):
                message.created_at = moment
        _update_rows(RequestMessage, ["created_at"], messages)

        attachments = list(Attachment.objects.filter(request_id__in=ids))
        for attachment in attachments:
            attachment.uploaded_at = self.plans[attachment.request_id].created_at + timedelta(minutes=5)
        _update_rows(Attachment, ["uploaded_at"], attachments)

    def _requests(self, ids: list[int]) -> None:
        requests = list(AssistanceRequest.objects.filter(pk__in=ids).select_related("kind"))
        for request in requests:
            _replay(request, self.plans[request.pk])
        _update_rows(AssistanceRequest, REQUEST_TIMES, requests)


def _update_rows(model, fields: list[str], objs: list) -> None:
    """``UPDATE … SET … WHERE id = …`` for every object, in one ``executemany``. Django's ``bulk_update`` builds a
    CASE expression over every row for every field, which takes a second for the demo's few thousand rows."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from _meta
    rows = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


REQUEST_TIMES = [
    "created_at",
    "sent_at",
    "received_at",
    "accepted_at",
    "answered_at",
    "closed_at",
    "paused_at",
    "sign_due_at",
    "accept_due_at",
    "finish_due_at",
    "due_at",
    "warn_at",
]


@dataclass
class _Clocks:
    """A request's moments and deadlines as the services would have set them had each step happened at its moment."""

    urgency: str
    extended_days: int = 0
    times: dict[str, datetime | None] = field(default_factory=dict)


def _replay(request: AssistanceRequest, plan: Plan) -> None:
    """Work the moments and clocks out again from the steps' moments, by the deadline engine, as the services do:
    sending (and forwarding) starts the signing clock, signing the accepting clock, accepting (and reopening) the
    finishing clock; a pause moves the clocks on by its length; a granted extension adds its days."""
    kind = request.kind
    moments: dict[str, datetime | None] = dict.fromkeys(REQUEST_TIMES)
    state = _Clocks(urgency=request.urgency)
    paused_from = None
    for step in plan.steps:
        at, action = step.at, step.action
        if action in ("send", "resend"):
            moments.update(sent_at=at, received_at=None, accepted_at=None)
            moments["sign_due_at"] = deadlines.due(at, kind.sign_within, kind.sign_unit)
            moments["accept_due_at"] = moments["finish_due_at"] = None
        elif action == "forward":
            moments["received_at"] = moments["accept_due_at"] = None
            moments["sign_due_at"] = deadlines.due(at, kind.sign_within, kind.sign_unit)
        elif action == "sign":
            moments["received_at"] = at
            moments["accept_due_at"] = deadlines.due(at, kind.accept_within, kind.accept_unit)
        elif action == "accept":
            moments["received_at"] = moments["received_at"] or at
            moments["accepted_at"] = at
            moments["finish_due_at"] = deadlines.finish_clock(kind, state, at).due_at
        elif action == "answer":
            moments["answered_at"] = at
        elif action == "close":
            moments["closed_at"] = at
        elif action in ("return", "withdraw"):
            moments["sign_due_at"] = moments["accept_due_at"] = None
        elif action == "pause":
            paused_from = moments["paused_at"] = at
        elif action == "resume":
            for name, unit in (("sign_due_at", "sign_unit"), ("accept_due_at", "accept_unit")):
                if moments[name] is not None:
                    moments[name] = deadlines.shift(moments[name], paused_from, at, getattr(kind, unit))
            if moments["finish_due_at"] is not None:
                moments["finish_due_at"] = deadlines.shift(moments["finish_due_at"], paused_from, at, kind.finish_unit)
            moments["paused_at"] = paused_from = None
        elif action == "grant":
            days = request.extended_days - state.extended_days
            state.extended_days = request.extended_days
            if moments["accepted_at"] and moments["finish_due_at"]:
                moments["finish_due_at"] = deadlines.due(moments["finish_due_at"], days, "days")
        elif action == "reopen":
            moments["answered_at"] = moments["closed_at"] = None
            moments["finish_due_at"] = deadlines.finish_clock(kind, state, at).due_at
    moments["created_at"] = plan.created_at
    for name in REQUEST_TIMES:
        if name in ("due_at", "warn_at"):
            continue
        stored, replayed = getattr(request, name), moments[name]
        if (stored is None) != (replayed is None):
            raise AssertionError(f"demo request {plan.key}: {name} is {stored} after the services, {replayed} replayed")
        setattr(request, name, replayed)
    deadlines.set_current(kind, request)


def load_assistance_demo(stdout=None, now: datetime | None = None) -> dict[str, int]:
    """Create the demo requests that do not exist yet; returns how many it created and escalated."""
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        return _Loader(stdout).load(now or timezone.now())


def demo_requests():
    """The demo requests present in the database."""
    return AssistanceRequest.objects.filter(idempotency_key__startswith=KEY_PREFIX)
