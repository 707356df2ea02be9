"""Demo ledger: four agreements in the demo circles, with owners, reports, closures (销号) and supervision (督办).

Written only through ``yipanqi.ledger.services``, by the circles' demo coordinators and the owning agencies' demo
liaisons where they exist (the system otherwise), so the audit trail reads like real use. Dates are relative to
``timezone.localdate()``: whenever the demo is loaded the board shows overdue (red), behind-plan (yellow), due-soon
(blue), on-track (green) and closed items. Agency names are public facts; every text here is our own wording.
Running it twice changes nothing: an agreement whose title exists is left alone.

Needs the directory demo (``yipanqi.directory.demo.load_demo``) first: circles, agencies and users.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from yipanqi.core.workdays import add_workdays
from yipanqi.directory.models import Agency, Circle, Department, Role, User

from . import services
from .models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    ClosureRule,
    Measure,
    MeasureCategory,
    OwnerRole,
    ReportingCycle,
)

DONE, LAUNCH, STUDY, REGULAR = (
    MeasureCategory.DONE,
    MeasureCategory.LAUNCH,
    MeasureCategory.STUDY,
    MeasureCategory.REGULAR,
)


# --------------------------------------------------------------------------- plans: dates and reports of a leaf


@dataclass(frozen=True)
class Plan:
    """How far a leaf has come: start and deadline relative to today, the lead's report series, the co-owners'."""

    start: int  # days from today
    due: int | None  # days from today; None: 3 working days from today (blue)
    lead: tuple[int, ...] = ()  # progress of each report the lead files, oldest first
    co: int | None = None  # progress reported by co-owners (at most 3 reports per item in all, unless every=True)
    every: bool = False  # every co-owner reports (items that must look on track near their deadline)
    close: bool = False  # every owner closes its share
    confirm: bool = False  # then the closure is confirmed (销号)


PLANS = {
    "done": Plan(-300, -20, (50, 90), 80, close=True, confirm=True),
    "closing": Plan(-200, 40, (60, 95), 90, close=True),
    "red": Plan(-240, -12, (35, 60), 50),
    "yellow": Plan(-180, 100, (15, 25), 20),
    "blue": Plan(-150, None, (70, 90), 85, every=True),
    "green": Plan(-60, 180, (20, 45), 35),
    "early": Plan(-20, 300, (10,)),
    "new": Plan(15, 365),
}


@dataclass
class Item:
    """A node of an agreement: an area (方面) or item with ``children``, or a leaf with ``owners`` (lead first)."""

    number: str
    title: str
    owners: tuple[str, ...] = ()
    plan: str = "green"
    category: str = REGULAR
    text: str = ""
    outcome: str = ""
    children: tuple[Item, ...] = ()
    departments: dict[str, str] = field(default_factory=dict)  # agency name -> department name
    report: tuple[str, str, str] | None = None  # the lead's latest report: progress, problems, next steps
    co_report: tuple[str, str, str] | None = None  # the first co-owner's report
    results: str = ""


def area(number: str, title: str, *children: Item, text: str = "") -> Item:
    return Item(number, title, children=children, text=text)


@dataclass(frozen=True)
class Urge:
    """督办: the coordinator urges ``agency`` on item ``number``; ``reply`` set means the owner has answered."""

    number: str
    agency: str
    message: str
    reply: str = ""


@dataclass
class AgreementSpec:
    title: str
    circle: str
    kind: str
    signatories: tuple[str, ...]
    signed_days_ago: int
    place: str
    coordinator: str  # username acting for the circle's coordination office
    regions_word: str  # "两地" / "三地" / "四地", used in report texts
    items: tuple[Item, ...]
    closure_rule: str = ClosureRule.COORDINATOR
    reporting_cycle: str = ReportingCycle.MONTHLY
    urges: tuple[Urge, ...] = ()


# Agencies whose demo people file reports and replies (others report through the system account).
REPORTERS = {
    "四川省高级人民法院": "sc_court",
    "重庆市高级人民法院": "cq_court",
    "成都市中级人民法院": "cd_court",
    "上海市人民检察院": "sh_procurator",
}


# --------------------------------------------------------------------------- 川渝: justice administration

SC, CQ = "四川省", "重庆市"


def cy(suffix: str, lead: str = "川") -> tuple[str, str]:
    """A provincial body of both 四川 and 重庆, the given side leading."""
    pair = (f"{SC}{suffix}", f"{CQ}{suffix}")
    return pair if lead == "川" else pair[::-1]


CY_JUSTICE = ("四川省司法厅", "重庆市司法局")

CHENGYU_JUSTICE = AgreementSpec(
    title="深化川渝司法行政区域合作重点项目实施方案",
    circle="chengyu",
    kind=AgreementKind.IMPLEMENTATION_PLAN,
    signatories=CY_JUSTICE,
    signed_days_ago=330,
    place="重庆",
    coordinator="chengyu_coord",
    regions_word="两地",
    items=(
        area(
            "一",
            "监狱工作协同",
            Item(
                "一、1",
                "建立川渝籍罪犯就近服刑协调机制",
                cy("监狱管理局"),
                "green",
                LAUNCH,
                text="对户籍在对方地区、符合条件的罪犯，经双方协商办理就近调遣服刑，便于家属探视和帮教。",
            ),
            Item(
                "一、2",
                "联合开展监狱安全风险评估与应急处置演练",
                cy("监狱管理局", "渝"),
                "done",
                DONE,
                results="两地监狱完成联合演练2次，互派观察员，修订突发事件协同处置预案1部。",
            ),
            Item(
                "一、3",
                "推进刑罚执行信息互联互通",
                cy("监狱管理局"),
                "yellow",
                STUDY,
                text="研究罪犯减刑假释、暂予监外执行信息在两地政法机关之间的共享范围和技术路径。",
            ),
        ),
        area(
            "二",
            "戒毒工作协同",
            Item(
                "二、1",
                "统一戒毒人员诊断评估和教育矫治工作标准",
                cy("戒毒管理局"),
                "green",
                REGULAR,
            ),
            Item(
                "二、2",
                "建立戒毒人员出所衔接和社区康复协作机制",
                cy("戒毒管理局", "渝"),
                "red",
                LAUNCH,
                text="解除强制隔离戒毒人员户籍地与戒毒所所在地不一致的，由两地衔接做好社区康复交接。",
                report=(
                    "出所衔接交接单和信息推送字段已与四川方面商定，在重庆两所试行，已交接解戒人员若干名。",
                    "四川方面社区康复工作站分布不均，部分区县暂无对接人，交接后跟踪不到位。",
                    "提请协调办协调两地禁毒部门，补齐区县对接人名单后全面推开。",
                ),
            ),
        ),
        area(
            "三",
            "律师行业合作",
            area(
                "三、1",
                "建立律师执业权利保障联动机制",
                Item(
                    "三、1（1）",
                    "开通跨区域律师维权快速响应通道",
                    cy("律师协会"),
                    "green",
                    REGULAR,
                ),
                Item(
                    "三、1（2）",
                    "建立律师投诉查处案件协调办理机制",
                    cy("律师协会", "渝"),
                    "blue",
                    LAUNCH,
                ),
            ),
            Item(
                "三、2",
                "联合举办川渝青年律师执业能力培训",
                cy("律师协会"),
                "done",
                DONE,
                results="联合举办培训班2期，两地青年律师参训300余人次，共享课程视频30余节。",
            ),
            Item(
                "三、3",
                "开展西部法律服务业集聚发展课题研究",
                CY_JUSTICE,
                "early",
                STUDY,
                outcome="形成调研报告，提出法律服务业集聚区的规划建议。",
            ),
        ),
        area(
            "四",
            "公证合作",
            Item(
                "四、1",
                "推行公证事项“川渝通办”清单",
                cy("公证协会", "渝"),
                "green",
                REGULAR,
                text="学历、无犯罪记录、亲属关系等高频公证事项，当事人可在两地任一公证机构申办。",
            ),
            Item(
                "四、2",
                "统一涉企公证服务规范和收费指引",
                cy("公证协会"),
                "new",
                LAUNCH,
            ),
        ),
        area(
            "五",
            "司法鉴定合作",
            Item(
                "五、1",
                "共建川渝司法鉴定专家库",
                cy("司法鉴定协会"),
                "closing",
                DONE,
                results="专家库首批入库鉴定专家120名，覆盖法医、物证、声像资料和环境损害等类别。",
            ),
            Item(
                "五、2",
                "联合开展司法鉴定机构执业质量评查",
                cy("司法鉴定协会", "渝"),
                "green",
                REGULAR,
            ),
            Item(
                "五、3",
                "统一司法鉴定投诉处理规则",
                cy("司法鉴定协会"),
                "yellow",
                STUDY,
            ),
        ),
        area(
            "六",
            "普法依法治理",
            Item(
                "六、1",
                "联合开展“川渝普法同行”主题宣传",
                CY_JUSTICE,
                "green",
                REGULAR,
            ),
            Item(
                "六、2",
                "在毗邻地区共建法治文化阵地",
                CY_JUSTICE[::-1],
                "early",
                LAUNCH,
                text="在川渝交界区县共建法治文化公园、法治长廊等阵地，轮流举办普法活动。",
            ),
        ),
        area(
            "七",
            "人民调解",
            Item(
                "七、1",
                "建立川渝边界矛盾纠纷联合调处机制",
                cy("人民调解员协会"),
                "green",
                REGULAR,
            ),
            Item(
                "七、2",
                "共享人民调解专家和金牌调解员资源",
                cy("人民调解员协会", "渝"),
                "blue",
                REGULAR,
            ),
            Item(
                "七、3",
                "联合开展跨区域调解员业务培训",
                cy("人民调解员协会"),
                "done",
                DONE,
            ),
        ),
    ),
    urges=(
        Urge(
            "二、2",
            "重庆市戒毒管理局",
            "该项目已超过完成时限，请说明出所衔接机制推进受阻的原因，报送整改措施和新的完成时间。",
        ),
    ),
)


# --------------------------------------------------------------------------- 川渝: the high courts

SC_COURT, CQ_COURT = "四川省高级人民法院", "重庆市高级人民法院"

CHENGYU_COURTS = AgreementSpec(
    title="川渝高级人民法院跨域立案与执行协作协议",
    circle="chengyu",
    kind=AgreementKind.COOPERATION,
    signatories=(SC_COURT, CQ_COURT),
    signed_days_ago=330,
    place="成都",
    coordinator="chengyu_coord",
    regions_word="两地",
    closure_rule=ClosureRule.ALL_SIGNATORIES,
    items=(
        area(
            "一",
            "跨域立案",
            Item(
                "一、1",
                "建立跨域立案诉讼服务协作机制",
                (SC_COURT, CQ_COURT),
                "green",
                REGULAR,
                text="当事人可在两地任一法院诉讼服务中心提交立案材料，由收件法院核对后网上推送管辖法院。",
                departments={SC_COURT: "立案庭", CQ_COURT: "立案庭"},
                report=(
                    "跨域立案服务已在两地三级法院诉讼服务中心开通，本季度代为收件并推送管辖法院案件86件。",
                    "部分基层法院收件后推送不及时，个别案件材料需二次补正。",
                    "下月编制跨域立案操作指引，并将推送时限纳入诉讼服务质效考核。",
                ),
                co_report=(
                    "重庆三级法院均已设置跨域立案窗口，配合四川法院完成收件推送，运行平稳。",
                    "",
                    "与四川高院立案庭共同梳理补正率较高的案由。",
                ),
            ),
            Item(
                "一、2",
                "统一立案材料清单和格式文书",
                (CQ_COURT, SC_COURT),
                "blue",
                REGULAR,
                departments={SC_COURT: "立案庭", CQ_COURT: "立案庭"},
                report=(
                    "民商事案件立案材料清单和12类格式文书已定稿，提交两院审判委员会备案。",
                    "",
                    "按期会签印发，同步在诉讼服务网公布。",
                ),
                co_report=(
                    "已对清单逐项核对，四川方面的修改意见已全部吸收。",
                    "",
                    "配合重庆高院完成会签。",
                ),
            ),
        ),
        area(
            "二",
            "执行协作",
            Item(
                "二、1",
                "建立委托执行案件快速移送与办理机制",
                (SC_COURT, CQ_COURT, "成都市中级人民法院"),
                "red",
                LAUNCH,
                text="委托执行案件网上移送，受托法院7日内立案，办理情况按月相互通报。",
                departments={SC_COURT: "执行局", CQ_COURT: "执行局", "成都市中级人民法院": "执行局"},
                report=(
                    "委托执行移送规程（修改稿）已两次征求重庆高院意见，成都中院作为试点法院已开展网上移送。",
                    "省级执行案件管理系统升级，与重庆系统的接口联调推迟。",
                    "本月内完成规程会签，系统联调完成后在两地全面推开。",
                ),
            ),
            Item(
                "二、2",
                "开展异地财产查控联动",
                (CQ_COURT, SC_COURT),
                "done",
                DONE,
                departments={SC_COURT: "执行局", CQ_COURT: "执行局"},
                results="两地执行指挥中心建立查控协作专线，累计协助查控被执行人财产线索400余条。",
            ),
            Item(
                "二、3",
                "联合开展涉企积案集中执行行动",
                (SC_COURT, CQ_COURT),
                "yellow",
                REGULAR,
                departments={SC_COURT: "执行局", CQ_COURT: "执行局"},
            ),
        ),
    ),
    urges=(
        Urge(
            "二、1",
            SC_COURT,
            "该事项已超过约定完成时限，请说明委托执行案件快速移送机制的推进情况、困难和整改时限，书面回复。",
            reply=(
                "已与重庆高院、成都中院会商，移送规程修改稿已定稿，拟于本月内会签印发；"
                "系统对接延后系省级平台升级所致，预计下月完成联调。"
            ),
        ),
    ),
)


# --------------------------------------------------------------------------- 京津冀: justice administration

JJJ = {"京": "北京市", "津": "天津市", "冀": "河北省"}
JJJ_JUSTICE = {"京": "北京市司法局", "津": "天津市司法局", "冀": "河北省司法厅"}


def jjj(suffix: str | None, order: str = "京津冀") -> tuple[str, ...]:
    """The three bodies of a kind (``None``: the justice bureaus), in the given order (the first leads)."""
    return tuple(JJJ_JUSTICE[k] if suffix is None else f"{JJJ[k]}{suffix}" for k in order)


JINGJINJI = AgreementSpec(
    title="京津冀司法行政协同发展合作举措",
    circle="jingjinji",
    kind=AgreementKind.COOPERATION,
    signatories=jjj(None),
    signed_days_ago=340,
    place="天津",
    coordinator="jjj_coord",
    regions_word="三地",
    items=(
        area(
            "一",
            "行政立法协同",
            Item("1.", "互相通报年度行政立法计划", jjj(None), "done", DONE),
            Item(
                "2.",
                "开展区域协同立法同步调研和论证",
                jjj(None, "津京冀"),
                "green",
                REGULAR,
                text="对生态环境、交通一体化等共性立法项目，三地同步开展调研、论证和征求意见。",
            ),
            Item("3.", "建立规范性文件备案审查协作机制", jjj(None, "冀京津"), "early", STUDY),
        ),
        area(
            "二",
            "公共法律服务",
            Item("4.", "推动高频公共法律服务事项“京津冀通办”", jjj(None), "green", REGULAR),
            Item(
                "5.",
                "建立法律援助异地协作机制",
                jjj(None, "冀京津"),
                "red",
                LAUNCH,
                text="受援人在三地任一地申请法律援助的，可由受理地协助审查、转交和指派。",
            ),
            Item("6.", "共享12348公共法律服务热线知识库", jjj(None, "津京冀"), "blue", REGULAR),
            Item("7.", "为雄安新区建设提供一体化法律服务", jjj(None, "冀京津"), "yellow", REGULAR),
        ),
        area(
            "三",
            "律师工作",
            Item("8.", "建立律师执业信息互通共享机制", jjj("律师协会"), "green", REGULAR),
            Item("9.", "开展律师行业跨区域结对帮扶", jjj("律师协会", "京冀"), "done", DONE),
            Item("10.", "建立律师执业纠纷和投诉联合处理机制", jjj("律师协会", "津京冀"), "yellow", LAUNCH),
            Item("11.", "组建京津冀涉外律师人才库", jjj(None), "new", LAUNCH),
        ),
        area(
            "四",
            "公证工作",
            Item("12.", "推行高频公证事项跨省通办", jjj("公证协会"), "green", REGULAR),
            Item("13.", "统一公证证明材料清单", jjj("公证协会", "冀京津"), "closing", DONE),
            Item("14.", "建立公证执业质量联合检查机制", jjj("公证协会", "津京冀"), "early", LAUNCH),
        ),
        area(
            "五",
            "司法鉴定",
            Item("15.", "共建京津冀司法鉴定人专家库", jjj("司法鉴定协会"), "green", REGULAR),
            Item("16.", "统一司法鉴定机构执业能力评估标准", jjj("司法鉴定协会", "津京冀"), "early", STUDY),
            Item("17.", "建立鉴定异地委托和结果互认机制", jjj("司法鉴定协会", "冀京津"), "blue", LAUNCH),
        ),
        area(
            "六",
            "人民调解",
            Item("18.", "建立交界地区矛盾纠纷联合调解机制", jjj(None, "冀京津"), "green", REGULAR),
            Item("19.", "共建跨区域行业性专业性调解组织", jjj("人民调解员协会"), "done", DONE),
            Item("20.", "联合开展人民调解员轮训", jjj("人民调解员协会", "津京冀"), "green", REGULAR),
        ),
    ),
    urges=(
        Urge(
            "5.",
            "河北省司法厅",
            "法律援助异地协作机制已逾期，请牵头单位会同京津两地说明原因，报送倒排工期计划。",
        ),
    ),
)


# --------------------------------------------------------------------------- 长三角: the political-legal committees

YRD = {"沪": "上海市", "苏": "江苏省", "浙": "浙江省", "皖": "安徽省"}
YRD_SPECIAL = {
    "公安": {"沪": "上海市公安局", "*": "公安厅"},
    "司法": {"沪": "上海市司法局", "*": "司法厅"},
    "政法委": {k: f"中共{v}委政法委员会" for k, v in YRD.items()},
}


def yrd(kind: str, order: str = "沪苏浙皖") -> tuple[str, ...]:
    """Bodies of one kind in 沪苏浙皖 (the first of ``order`` leads): 公安, 司法, 政法委, or a name suffix."""
    names = []
    for k in order:
        special = YRD_SPECIAL.get(kind)
        if special is None:
            names.append(f"{YRD[k]}{kind}")
        else:
            names.append(special.get(k) or f"{YRD[k]}{special['*']}")
    return tuple(names)


YANGTZE = AgreementSpec(
    title="长三角地区政法领域一体化协作行动计划",
    circle="yangtze-delta",
    kind=AgreementKind.ACTION_PLAN,
    signatories=yrd("政法委"),
    signed_days_ago=320,
    place="合肥",
    coordinator="yrd_coord",
    regions_word="四地",
    reporting_cycle=ReportingCycle.QUARTERLY,
    items=(
        area(
            "一",
            "区域维稳与警务协作",
            Item("一、1", "搭建沪苏浙皖情报信息与指挥调度联动平台", yrd("公安"), "green", LAUNCH),
            Item("一、2", "完善跨省重大警情协查与联合处置流程", yrd("公安", "苏沪浙皖"), "green", REGULAR),
        ),
        area(
            "二",
            "打击黑恶犯罪",
            Item("二、1", "跨省涉黑涉恶案件线索核查、侦办与追逃协作", yrd("公安", "浙沪苏皖"), "green", REGULAR),
            Item(
                "二、2",
                "涉黑涉恶案件财产异地查控与处置衔接",
                yrd("高级人民法院", "皖沪苏浙"),
                "yellow",
                REGULAR,
            ),
        ),
        area(
            "三",
            "经济犯罪与电信网络诈骗治理",
            Item("三、1", "非法集资等涉众型经济犯罪联防联打", yrd("公安"), "done", DONE),
            Item(
                "三、2",
                "统一电信网络诈骗案件证据审查指引",
                yrd("人民检察院"),
                "green",
                REGULAR,
                text="梳理四地检察机关电诈案件证据审查中的分歧点，形成统一的审查指引。",
                departments={"上海市人民检察院": "第一检察部"},
                report=(
                    "已汇总四地近两年电诈案件不起诉、改变定性的典型情形，归纳证据分歧点23个，指引初稿完成。",
                    "涉及跨境资金流证据的认定，各地意见仍不一致。",
                    "下月召开四地检察业务研讨会，集中研究资金流证据问题。",
                ),
            ),
        ),
        area(
            "四",
            "长江生态环境保护",
            Item(
                "四、1",
                "长江流域生态环境公益诉讼线索移送与异地取证协作",
                yrd("人民检察院"),
                "yellow",
                LAUNCH,
                text="跨省流域污染线索由发现地检察院移送有管辖权的检察院，异地取证由所在地检察院协助。",
                departments={"上海市人民检察院": "第八检察部（公益诉讼）"},
                report=(
                    "线索移送和异地取证协作办法已起草，上海检察机关已向江苏、浙江移送跨界污染线索3条。",
                    "安徽方面意见尚未反馈，办法会签时间较原计划推迟。",
                    "本月内赴合肥当面沟通，争取下月完成会签。",
                ),
            ),
            Item("四、2", "长江十年禁渔联合执法专项行动", yrd("公安", "苏沪皖"), "done", DONE),
        ),
        area(
            "五",
            "省际平安边界",
            Item("五、1", "毗邻县（市、区）平安边界联席会议常态化运行", yrd("政法委", "浙苏皖"), "green", REGULAR),
            Item("五、2", "省际交界道口检查站联勤联动", yrd("公安", "皖苏浙"), "red", LAUNCH),
        ),
        area(
            "六",
            "政法便民服务",
            Item("六、1", "户籍业务跨省通办“一次办成”", yrd("公安"), "done", DONE),
            Item("六、2", "公安电子身份认证结果跨省互认", yrd("公安", "浙沪"), "blue", LAUNCH),
        ),
        area(
            "七",
            "特殊人群服务管理",
            Item("七、1", "社区矫正对象执行地变更网上协同办理", yrd("司法", "苏沪浙皖"), "green", REGULAR),
            Item("七、2", "刑满释放人员出监衔接与安置帮教跨省协作", yrd("司法", "皖沪苏"), "green", REGULAR),
        ),
        area(
            "八",
            "政法数据共享",
            Item(
                "八、1",
                "政法数据共享目录与数据标准对接",
                yrd("政法委"),
                "early",
                STUDY,
                outcome="形成四地政法数据共享目录（第一版）和数据元标准对照表。",
            ),
        ),
        area(
            "九",
            "适法标准统一",
            Item("九、1", "四地法院联合发布典型案例，统一裁判尺度", yrd("高级人民法院"), "green", REGULAR),
            Item(
                "九、2",
                "常见多发犯罪量刑建议指引趋同",
                yrd("人民检察院", "浙沪苏皖"),
                "green",
                STUDY,
                departments={"上海市人民检察院": "第一检察部"},
                co_report=(
                    "上海检察机关已完成危险驾驶、盗窃等8个罪名量刑建议数据比对，报送浙江省检察院汇总。",
                    "",
                    "配合牵头单位起草指引文本。",
                ),
            ),
        ),
        area(
            "十",
            "诉讼与执行协作",
            Item("十、1", "跨域立案诉讼服务窗口全覆盖", yrd("高级人民法院", "苏沪浙皖"), "closing", DONE),
            area(
                "十、2",
                "四地执行指挥中心互联互通",
                Item("十、2（1）", "制定执行协作网上办理技术规范", yrd("高级人民法院", "沪苏"), "done", DONE),
                Item("十、2（2）", "异地协助执行事项线上流转", yrd("高级人民法院", "浙皖沪"), "green", LAUNCH),
            ),
            Item("十、3", "法院电子卷宗跨省调阅试点", yrd("高级人民法院", "皖沪"), "early", STUDY),
        ),
        area(
            "十一",
            "法律服务合作",
            Item("十一、1", "律师异地阅卷“一次申请、就近阅卷”", yrd("律师协会"), "green", LAUNCH),
            Item(
                "十一、2",
                "共建司法鉴定人和破产管理人共享名录",
                yrd("司法鉴定协会", "苏沪浙皖"),
                "yellow",
                REGULAR,
            ),
        ),
        area(
            "十二",
            "政法队伍建设",
            Item("十二、1", "政法干部互派挂职与跟班学习", yrd("政法委", "皖沪苏浙"), "green", REGULAR),
            Item("十二、2", "四地政法队伍联合练兵比武", yrd("政法委", "浙沪"), "new", LAUNCH),
        ),
    ),
    urges=(
        Urge(
            "四、1",
            "上海市人民检察院",
            "该项目进度明显滞后于计划，请加快协作办法的会签，于回复期限前报送推进计划。",
        ),
    ),
)

AGREEMENTS = (CHENGYU_JUSTICE, CHENGYU_COURTS, JINGJINJI, YANGTZE)


# --------------------------------------------------------------------------- report and result texts (templates)

# (progress, problems, next steps) by stage; {title} {partner} {regions} {n} are filled in.
STAGE_TEXTS = {
    "start": (
        (
            "成立工作专班，与{partner}召开视频对接会，就“{title}”的目标、分工和时间节点达成初步共识。",
            "双方内部审批流程不同，方案会签需要时间。",
            "两周内形成工作方案初稿，送{partner}征求意见。",
        ),
        (
            "完成前期摸底，梳理本单位相关制度和业务数据，形成问题清单{n}项。",
            "{regions}统计口径不一致，部分数据无法直接比对。",
            "与{partner}开展一次联合调研，统一统计口径。",
        ),
        (
            "起草“{title}”工作细则（征求意见稿），已在系统内征求意见。",
            "",
            "根据反馈修改后提交协调小组审议。",
        ),
    ),
    "middle": (
        (
            "工作方案已会签印发，{partner}与我方各确定一名联络员，建立双周调度；首批试点事项已运行。",
            "跨省文书仍以纸质邮寄为主，流转时间偏长。",
            "推动文书电子化流转，月底前完成试点情况评估。",
        ),
        (
            "“{title}”进入试运行，本期协同办理事项{n}件，平均用时比上期缩短。",
            "个别基层单位对新流程不熟悉，存在退回补正。",
            "组织面向基层的业务培训，编印操作指引。",
        ),
        (
            "与{partner}联合召开推进会，逐项对账，明确剩余任务和完成时限。",
            "信息系统对接需报上级主管部门审批，进度受影响。",
            "协调技术部门加快接口联调，力争下月完成测试。",
        ),
    ),
    "late": (
        (
            "主体工作基本完成，相关制度已印发执行，运行平稳，正在汇总成效材料。",
            "",
            "整理佐证材料，按程序申请销号。",
        ),
        (
            "“{title}”已在{regions}全面推开，累计协同办理事项{n}件，企业群众反映良好。",
            "基层反映部分环节仍可简化。",
            "总结经验做法，形成典型案例报送协调办。",
        ),
        (
            "完成阶段评估，各项指标达到方案要求，宣传推广工作正在进行。",
            "",
            "配合{partner}做好联合发布。",
        ),
    ),
}

RESULT_TEXTS = (
    "相关制度已印发实施，与{partner}的对接流程运行顺畅，承担的任务全部完成。",
    "按方案完成全部任务，形成制度文件{k}份，协同办理事项{n}件。",
    "成果已在{regions}推广应用，经联合评估达到预期目标。",
)
EVIDENCE = "会签文件、工作台账、运行情况报告"
CONFIRMATION = "经审核，各责任单位成效材料齐全，同意销号。"


# Per-plan spread, times 0…3 by the leaf's position, so that items of one plan do not all share the same dates:
# days added to the start and to the deadline, points added to the green items' progress. Every variant keeps its
# light (see yipanqi.ledger.selectors.light_for with the default margins).
SPREAD = {
    "done": (-5, -10, 0),
    "closing": (0, 10, 0),
    "red": (-10, -5, 0),
    "yellow": (-10, 10, 0),
    "blue": (0, 0, 0),
    "green": (-10, 15, 5),
    "early": (-5, 20, 0),
    "new": (10, 30, 0),
}


TREND_DAYS = 30  # days of board snapshots the demo starts with


def _varied(plan: Plan, name: str, k: int) -> Plan:
    start, due, points = SPREAD[name]
    return replace(
        plan,
        start=plan.start + start * k,
        due=None if plan.due is None else plan.due + due * k,
        lead=tuple(p + points * k for p in plan.lead),
        co=None if plan.co is None else plan.co + points * k,
    )


def _stage(progress: int) -> str:
    return "start" if progress < 30 else "middle" if progress < 70 else "late"


# --------------------------------------------------------------------------- loader


class _Loader:
    def __init__(self, stdout=None):
        self.stdout = stdout
        self.today = timezone.localdate()
        self.counter = 0
        self.leaf_index = 0
        names = {name for spec in AGREEMENTS for name in _agency_names(spec)}
        self.agencies = {a.name: a for a in Agency.objects.filter(name__in=names).order_by("-pk")}
        missing = sorted(names - set(self.agencies))
        if missing:
            raise LookupError(f"the ledger demo needs the directory demo first; missing agencies: {'、'.join(missing)}")
        usernames = set(REPORTERS.values()) | {spec.coordinator for spec in AGREEMENTS}
        self.users = {
            u.username: u for u in User.objects.filter(username__in=usernames).select_related("agency", "department")
        }

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def reporter(self, agency: Agency):
        return self.users.get(REPORTERS.get(agency.name, ""))

    def next_index(self) -> int:
        self.counter += 1
        return self.counter

    # -- agreements

    def load(self) -> dict[str, int]:
        created = {"agreements": 0, "measures": 0, "leaves": 0, "reports": 0, "supervisions": 0}
        for spec in AGREEMENTS:
            if Agreement.objects.filter(title=spec.title).exists():
                self.say(f"台账演示：《{spec.title}》已存在，未改动")
                continue
            circle = Circle.objects.filter(slug=spec.circle).first()
            if circle is None:
                raise LookupError(f"the ledger demo needs the directory demo first; circle {spec.circle} is missing")
            counts = self.load_agreement(spec, circle)
            for key, value in counts.items():
                created[key] += value
            self.say(
                f"台账演示：《{spec.title}》{counts['measures']}项（其中{counts['leaves']}项末级举措），"
                f"进展报告{counts['reports']}份，督办单{counts['supervisions']}份"
            )
            created["agreements"] += 1
        if created["agreements"]:
            self.load_board_and_bulletins()
        return created

    def load_board_and_bulletins(self) -> None:
        """A month of the boards' trend, and 成渝's monthly bulletin: scheduled, and last month's queued for the
        worker (``make run`` starts one) to render."""
        from . import board, bulletins

        board.backfill_snapshots(self.today, TREND_DAYS)
        board.take_snapshots(self.today)
        circle = Circle.objects.filter(slug="chengyu").first()
        coordinator = self.users.get("chengyu_coord")
        if circle is None or coordinator is None or circle.bulletins.exists():
            return
        prefix = f"{circle.short_name or circle.name}政法协"
        bulletins.create_schedule(acting_user=coordinator, circle=circle, number_prefix=prefix, day_of_month=3)
        first, last = bulletins.period_before("monthly", self.today)
        bulletins.create_bulletin(
            acting_user=coordinator,
            circle=circle,
            period_start=first,
            period_end=last,
            doc_number=bulletins.next_doc_number(circle, prefix, self.today.year),
            recipients="各成员单位：",
            cc="省委政法委，市委政法委。",
        )
        self.say(f"台账演示：{circle.name}月度通报已排程，上月通报已交后台生成")

    def load_agreement(self, spec: AgreementSpec, circle: Circle) -> dict[str, int]:
        coordinator = self.users.get(spec.coordinator)
        signed_on = self.today - timedelta(days=spec.signed_days_ago)
        agreement = services.create_agreement(
            acting_user=coordinator,
            title=spec.title,
            circle=circle,
            signatories=[self.agencies[name] for name in spec.signatories],
            kind=spec.kind,
            status=AgreementStatus.IN_FORCE,
            signed_on=signed_on,
            signed_place=spec.place,
            valid_from=signed_on,
            valid_until=signed_on + timedelta(days=3 * 365),
            closure_rule=spec.closure_rule,
            reporting_cycle=spec.reporting_cycle,
        )
        self.counts = {"measures": 0, "leaves": 0, "reports": 0, "supervisions": 0}
        self.measures: dict[str, Measure] = {}
        self.shares = {}
        for item in spec.items:
            self.add(spec, agreement, item, parent=None, coordinator=coordinator)
        for urge in spec.urges:
            self.urge(urge, coordinator)
        return self.counts

    def add(self, spec, agreement, item: Item, *, parent, coordinator) -> None:
        fields = {"text": item.text, "expected_outcome": item.outcome, "category": item.category}
        plan = PLANS[item.plan] if item.owners else None
        if plan is not None:
            self.leaf_index += 1
            plan = _varied(plan, item.plan, self.leaf_index % 4)
            fields["start_on"] = self.today + timedelta(days=plan.start)
            fields["due_on"] = (
                add_workdays(self.today, 2 + self.leaf_index % 3)
                if plan.due is None
                else self.today + timedelta(days=plan.due)
            )
        measure = services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=parent,
            number=item.number,
            title=item.title,
            **fields,
        )
        self.measures[item.number] = measure
        self.counts["measures"] += 1
        for child in item.children:
            self.add(spec, agreement, child, parent=measure, coordinator=coordinator)
        if plan is None:
            return
        self.counts["leaves"] += 1
        owners = []
        for position, name in enumerate(item.owners):
            agency = self.agencies[name]
            person = self.reporter(agency)
            department = None
            if item.departments.get(name):
                department = Department.objects.filter(agency=agency, name=item.departments[name]).first()
            elif person is not None:
                department = person.department
            owner = services.assign_owner(
                acting_user=coordinator,
                measure=measure,
                agency=agency,
                role=OwnerRole.LEAD if position == 0 else OwnerRole.CO,
                department=department,
                person=person,
            )
            owners.append(owner)
            self.shares[(item.number, name)] = owner
        self.progress(spec, agreement, item, plan, owners, coordinator)

    # -- reports, closures

    def progress(self, spec, agreement, item: Item, plan: Plan, owners, coordinator) -> None:
        lead, co_owners = owners[0], owners[1:]
        series = list(plan.lead)
        if plan.co is None:
            reporting_co = []
        elif plan.every:
            reporting_co = co_owners
            series = series[-max(1, 3 - len(co_owners)) :]
        else:
            reporting_co = co_owners[: max(0, 3 - len(series))]
        for i, value in enumerate(series):
            custom = item.report if i == len(series) - 1 else None
            self.file(spec, item, lead, value, partner=_partner(lead, owners), custom=custom)
        for i, owner in enumerate(reporting_co):
            custom = item.co_report if i == 0 else None
            self.file(spec, item, owner, plan.co, partner=_partner(owner, owners), custom=custom)
        if not plan.close:
            return
        for owner in [*co_owners, lead]:  # the lead closes last, after its partners
            n = self.next_index()
            text = item.results if owner is lead and item.results else RESULT_TEXTS[n % len(RESULT_TEXTS)]
            services.close_share(
                acting_user=self.reporter(owner.agency),
                owner=owner,
                results=text.format(
                    partner=_partner(owner, owners), regions=spec.regions_word, n=12 + n * 7 % 90, k=1 + n % 3
                ),
                evidence=EVIDENCE,
            )
        if not plan.confirm:
            return
        measure = self.measures[item.number]
        results = f"{CONFIRMATION}{item.results}" if item.results else CONFIRMATION
        if agreement.closure_rule == ClosureRule.ALL_SIGNATORIES:
            confirmers = [self._signatory_liaison(name) for name in spec.signatories]
        else:
            confirmers = [coordinator]
        for user in confirmers:
            measure = services.confirm_closure(acting_user=user, measure=measure, results=results)

    def _signatory_liaison(self, agency_name: str):
        user = self.users.get(REPORTERS.get(agency_name, ""))
        if user is None or not user.has_role(Role.LIAISON):
            raise LookupError(f"no demo liaison of {agency_name} to confirm closures")
        return user

    def file(self, spec, item: Item, owner, progress: int, *, partner: str, custom=None) -> None:
        n = self.next_index()
        if custom is None:
            variants = STAGE_TEXTS[_stage(progress)]
            custom = variants[n % len(variants)]
        text, problems, next_steps = (
            part.format(title=item.title, partner=partner, regions=spec.regions_word, n=5 + n * 11 % 60)
            for part in custom
        )
        services.file_report(
            acting_user=self.reporter(owner.agency),
            owner=owner,
            text=text,
            progress=progress,
            problems=problems,
            next_steps=next_steps,
        )
        self.counts["reports"] += 1

    # -- supervision

    def urge(self, urge: Urge, coordinator) -> None:
        owner = self.shares[(urge.number, urge.agency)]
        supervision = services.issue_supervision(
            acting_user=coordinator,
            owner=owner,
            message=urge.message,
            reply_due_on=add_workdays(self.today, 5),
        )
        self.counts["supervisions"] += 1
        if urge.reply:
            services.reply_supervision(
                acting_user=self.reporter(owner.agency), supervision=supervision, reply=urge.reply
            )


def _partner(owner, owners) -> str:
    others = [o.agency.name for o in owners if o.pk != owner.pk]
    if not others:
        return "各协作单位"
    return others[0] if len(others) == 1 else f"{others[0]}等单位"


def _agency_names(spec: AgreementSpec) -> set[str]:
    names = set(spec.signatories)
    stack = list(spec.items)
    while stack:
        item = stack.pop()
        names.update(item.owners)
        stack.extend(item.children)
    return names


def load_ledger_demo(stdout=None) -> dict[str, int]:
    """Create the demo agreements that do not exist yet; returns how many agreements, measures, … it created."""
    with transaction.atomic():
        return _Loader(stdout).load()


def demo_agreements():
    """The demo agreements present in the database."""
    return Agreement.objects.filter(title__in=[spec.title for spec in AGREEMENTS])
