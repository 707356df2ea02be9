"""Demo meetings: one series per demo circle, each with two held meetings whose minutes every member approved and one
planned meeting, so that the loop "会商—落实—反馈" is visible from the first minute.

Written only through ``yipanqi.meetings.services``, by the people who would do it: the circle's demo coordinator
runs the series, a host agency's demo liaison runs its own meeting, members' demo liaisons propose topics and approve
the minutes in person; agencies without a demo person approve through ``approve_on_behalf`` (an approval given on
paper) and the system stands in for a circle without a demo coordinator (嘉陵江). The held meetings' decisions give
work under the standing agreements of the ledger demo (some deadlines already past, so the planned meeting opens with
red open decisions), extend the deadline of measures behind plan (never the ledger demo's red examples, which stay
red), and in the 嘉陵江 series become agreements of kind 会议纪要; each series carries an unfinished topic over to
the planned meeting. Dates are relative to ``timezone.localdate()``.
Meeting genres and agency names are public facts; every text here is our own wording. Running it twice changes
nothing: a series whose title exists is left alone.

Needs the directory demo and the ledger demo (``yipanqi.ledger.demo.load_ledger_demo``) first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from yipanqi.directory.models import Agency, Circle, User
from yipanqi.ledger.demo import CHENGYU_COURTS, JINGJINJI, YANGTZE
from yipanqi.ledger.models import Agreement, Measure

from . import selectors, services
from .minutes import chinese_number
from .models import DecisionKind, Meeting, MeetingSeries, RotationRule, SeriesKind, Topic, TopicOutcome

INFO, NEW, UPDATE = DecisionKind.INFORMATION, DecisionKind.NEW_MEASURES, DecisionKind.UPDATE_MEASURES
CONCLUDED, UNFINISHED = TopicOutcome.CONCLUDED, TopicOutcome.UNFINISHED


@dataclass(frozen=True)
class DecisionSpec:
    """A decision; agencies are keys of the series' ``members``; days count from today."""

    title: str
    kind: str = INFO
    text: str = ""
    lead: str = ""
    co: tuple[str, ...] = ()
    due: int | None = None
    update: tuple[str, ...] = ()  # measures (number in the standing agreement, or title) whose deadline moves
    new_due: int | None = None


@dataclass(frozen=True)
class TopicSpec:
    """A topic proposed by member ``by``; ``carried`` names the topic an earlier meeting left unfinished instead."""

    title: str
    by: str = ""
    description: str = ""
    measures: tuple[str, ...] = ()
    outcome: str = CONCLUDED
    decisions: tuple[DecisionSpec, ...] = ()
    carried: bool = False


@dataclass(frozen=True)
class MeetingSpec:
    day: int  # days from today
    place: str
    host: str | None = None  # None: the host the rotation proposes
    topics: tuple[TopicSpec, ...] = ()
    days: int = 1


@dataclass(frozen=True)
class SeriesSpec:
    title: str
    circle: str
    kind: str
    members: dict[str, str]  # key -> agency name, in the order of the rotation
    meeting_title: str  # "{n}": the meeting's number in Chinese
    held: tuple[MeetingSpec, MeetingSpec]
    planned: MeetingSpec
    standing: str | None = None  # title of the ledger demo agreement decisions put their measures under
    manager: str | None = None  # username of the circle's demo coordinator (None: the system)
    minutes_as_agreement: bool = False
    description: str = ""


# Members' demo liaisons: they propose their agency's topics, run the meetings it hosts and approve in person.
LIAISONS = {
    "四川省高级人民法院": "sc_court",
    "重庆市高级人民法院": "cq_court",
    "中共上海市委政法委员会": "yrd_coord",
    "中共北京市委政法委员会": "jjj_coord",
}


# --------------------------------------------------------------------------- 成渝: the two high courts

CHENGYU = SeriesSpec(
    title="川渝高级人民法院联席会议",
    circle="chengyu",
    kind=SeriesKind.JOINT,
    members={"川": "四川省高级人民法院", "渝": "重庆市高级人民法院"},
    meeting_title="川渝高级人民法院第{n}次联席会议",
    standing=CHENGYU_COURTS.title,
    manager="chengyu_coord",
    description="两院轮流承办，研究跨域立案、执行协作等审判执行工作中的共性问题，督促协作协议落实。",
    held=(
        MeetingSpec(
            -200,
            "成都",
            "川",
            (
                TopicSpec(
                    "跨域立案诉讼服务运行情况",
                    "川",
                    "通报两地三级法院跨域立案窗口的收件、推送和补正情况。",
                    measures=("一、1",),
                    decisions=(
                        DecisionSpec(
                            "跨域立案服务运行平稳，按现行流程继续办理",
                            text="两院立案庭按季度互通收件推送数据，对补正率较高的案由联合分析原因。",
                        ),
                    ),
                ),
                TopicSpec(
                    "委托执行案件网上移送存在的问题",
                    "渝",
                    "受托法院立案不及时、办理情况反馈不到位的问题较为突出。",
                    measures=("二、1",),
                    decisions=(
                        DecisionSpec(
                            "制定川渝法院委托执行案件网上移送操作规程",
                            NEW,
                            "明确移送材料、受托法院7日内立案和按月反馈办理情况的要求。",
                            lead="川",
                            co=("渝",),
                            due=-20,
                        ),
                        DecisionSpec(
                            "建立两地执行指挥中心办理情况月度通报制度",
                            NEW,
                            lead="渝",
                            co=("川",),
                            due=90,
                        ),
                    ),
                ),
                TopicSpec(
                    "联合开展涉企积案集中执行行动",
                    "川",
                    "双方原则同意联合开展，行动范围和时间安排需会后进一步研究。",
                    measures=("二、3",),
                    outcome=UNFINISHED,
                ),
            ),
            days=1,
        ),
        MeetingSpec(
            -45,
            "重庆",
            "渝",
            (
                TopicSpec(
                    "联合开展涉企积案集中执行行动",
                    carried=True,
                    decisions=(
                        DecisionSpec(
                            "开展第一批涉企积案集中执行专项行动",
                            NEW,
                            "两地各梳理执行到位率低的涉企案件，集中查控、集中兑付。",
                            lead="渝",
                            co=("川",),
                            due=-5,
                        ),
                        DecisionSpec(
                            "同意调整涉企积案集中执行行动的完成时限",
                            UPDATE,
                            "第一批专项行动结束后评估成效，按新时限完成全部积案清理。",
                            update=("二、3",),
                            new_due=150,
                        ),
                    ),
                ),
                TopicSpec(
                    "委托执行快速移送机制推进情况",
                    "川",
                    "省级执行案件管理系统升级，与重庆系统的接口联调推迟。",
                    measures=("二、1",),
                    decisions=(
                        DecisionSpec(
                            "系统联调完成前先行纸质移送，移送规程本月内会签印发",
                            text="四川高院按督办回复意见抓紧推进，下次会议报告完成情况。",
                        ),
                    ),
                ),
                TopicSpec(
                    "立案材料清单和格式文书会签",
                    "渝",
                    measures=("一、2",),
                    decisions=(DecisionSpec("清单和格式文书已定稿，两院会签后同步在诉讼服务网公布"),),
                ),
                TopicSpec(
                    "跨域诉讼服务数据共享范围",
                    "川",
                    "涉及当事人个人信息，共享范围和安全要求需报两院审判委员会研究。",
                    outcome=UNFINISHED,
                ),
            ),
        ),
    ),
    planned=MeetingSpec(
        21,
        "成都",
        topics=(TopicSpec("年度协作工作总结及下一阶段重点任务", "川"),),
    ),
)


# --------------------------------------------------------------------------- 长三角: the secretaries' symposium

YRD_MEMBERS = {
    "沪": "中共上海市委政法委员会",
    "苏": "中共江苏省委政法委员会",
    "浙": "中共浙江省委政法委员会",
    "皖": "中共安徽省委政法委员会",
}

YANGTZE_DELTA = SeriesSpec(
    title="长三角地区党委政法委书记座谈会",
    circle="yangtze-delta",
    kind=SeriesKind.SYMPOSIUM,
    members=YRD_MEMBERS,
    meeting_title="第{n}次长三角地区党委政法委书记座谈会",
    standing=YANGTZE.title,
    manager="yrd_coord",
    description="沪苏浙皖轮流承办，通报一体化协作进展，研究部署下一阶段政法协作重点工作。",
    held=(
        MeetingSpec(
            -300,
            "合肥",
            "皖",
            (
                TopicSpec(
                    "政法领域一体化协作行动计划推进情况",
                    "沪",
                    "对照行动计划逐项通报，长江生态环境公益诉讼协作和交界道口联勤联动进度滞后。",
                    measures=("四、1", "五、2"),
                    decisions=(
                        DecisionSpec(
                            "各地对照行动计划梳理本地任务清单，按季度报送进展",
                            text="进度滞后的事项由牵头单位说明原因，列入下次座谈会通报。",
                        ),
                    ),
                ),
                TopicSpec(
                    "涉企案件跨省协作",
                    "浙",
                    "企业反映跨省涉企案件协查、送达周期长。",
                    decisions=(
                        DecisionSpec(
                            "建立长三角政法机关涉企案件跨省协作“绿色通道”",
                            NEW,
                            "涉企协查、送达、查控事项优先办理，明确各地联络人和办理时限。",
                            lead="浙",
                            co=("沪", "苏", "皖"),
                            due=-30,
                        ),
                    ),
                ),
                TopicSpec(
                    "省际交界地区矛盾纠纷联合调处",
                    "皖",
                    decisions=(
                        DecisionSpec(
                            "在省际毗邻县（市、区）建立矛盾纠纷联合调处工作站",
                            NEW,
                            lead="皖",
                            co=("苏", "浙"),
                            due=100,
                        ),
                    ),
                ),
                TopicSpec(
                    "政法数据共享目录编制",
                    "苏",
                    "四地数据元标准差异较大，目录编制方式尚未形成一致意见。",
                    measures=("八、1",),
                    outcome=UNFINISHED,
                ),
            ),
            days=2,
        ),
        MeetingSpec(
            -60,
            "上海",
            "沪",
            (
                TopicSpec(
                    "政法数据共享目录编制",
                    carried=True,
                    decisions=(
                        DecisionSpec(
                            "制定长三角政法数据共享安全管理规范",
                            NEW,
                            "与共享目录同步编制，明确数据分级、使用审批和安全责任。",
                            lead="苏",
                            co=("沪", "浙", "皖"),
                            due=150,
                        ),
                    ),
                ),
                TopicSpec(
                    "省际交界道口检查站联勤联动推进情况",
                    "苏",
                    "检查站信息系统对接涉及公安部审批，原定时限无法完成。",
                    measures=("五、2",),
                    decisions=(
                        DecisionSpec(
                            "各地公安机关加快检查站信息系统对接报批，下次座谈会通报进展",
                            text="对接报批期间，先行开展交界道口联合勤务和信息人工互通。",
                        ),
                    ),
                ),
                TopicSpec(
                    "政法队伍联合练兵比武方案",
                    "浙",
                    "比武项目设置和举办地点需征求四地政法单位意见。",
                    measures=("十二、2",),
                    outcome=UNFINISHED,
                ),
                TopicSpec(
                    "下一次座谈会承办事宜",
                    "沪",
                    decisions=(
                        DecisionSpec(
                            "下一次座谈会在江苏省召开，由江苏省委政法委承办",
                            text="按沪、苏、浙、皖顺序轮值承办。",
                        ),
                    ),
                ),
            ),
        ),
    ),
    planned=MeetingSpec(35, "南京", days=2),
)


# --------------------------------------------------------------------------- 京津冀: political-legal coordination

JINGJINJI_SERIES = SeriesSpec(
    title="京津冀政法协同联席会议",
    circle="jingjinji",
    kind=SeriesKind.JOINT,
    members={
        "京": "中共北京市委政法委员会",
        "津": "中共天津市委政法委员会",
        "冀": "中共河北省委政法委员会",
        "京司": "北京市司法局",
        "津司": "天津市司法局",
        "冀司": "河北省司法厅",
    },
    meeting_title="京津冀政法协同第{n}次联席会议",
    standing=JINGJINJI.title,
    manager="jjj_coord",
    description="三地党委政法委牵头、司法行政机关参加，推进京津冀政法协同发展各项合作举措落地。",
    held=(
        MeetingSpec(
            -240,
            "北京",
            "京",
            (
                TopicSpec(
                    "京津冀政法协同年度工作要点",
                    "京",
                    decisions=(DecisionSpec("审议通过年度工作要点，三地分别细化任务分工抓好落实"),),
                ),
                TopicSpec(
                    "法律援助异地协作机制推进情况",
                    "冀司",
                    "该事项已逾期，受援人异地申请的审查、转交流程尚未统一。",
                    measures=("5.",),
                    decisions=(
                        DecisionSpec(
                            "制定京津冀法律援助异地协作工作规程",
                            NEW,
                            "统一异地申请的受理、审查、转交和指派流程及时限。",
                            lead="冀司",
                            co=("京司", "津司"),
                            due=-15,
                        ),
                    ),
                ),
                TopicSpec(
                    "服务保障雄安新区建设",
                    "津",
                    measures=("7.",),
                    decisions=(
                        DecisionSpec(
                            "建立服务雄安新区建设政法工作联络机制",
                            NEW,
                            lead="冀",
                            co=("京", "津"),
                            due=80,
                        ),
                    ),
                ),
                TopicSpec(
                    "交界地区矛盾纠纷联合调解",
                    "京司",
                    "北三县与北京通州、天津武清交界地区纠纷调处的牵头单位需进一步明确。",
                    measures=("18.",),
                    outcome=UNFINISHED,
                ),
            ),
        ),
        MeetingSpec(
            -75,
            "天津",
            "津",
            (
                TopicSpec(
                    "交界地区矛盾纠纷联合调解",
                    carried=True,
                    decisions=(
                        DecisionSpec(
                            "在交界地区试点设立联合人民调解委员会",
                            NEW,
                            lead="津司",
                            co=("京司", "冀司"),
                            due=45,
                        ),
                    ),
                ),
                TopicSpec(
                    "律师执业纠纷和投诉联合处理机制进展",
                    "京司",
                    "三地律师协会投诉处理规则差异较大，需延长研究时间。",
                    measures=("10.",),
                    decisions=(
                        DecisionSpec(
                            "同意调整律师执业纠纷和投诉联合处理机制的完成时限",
                            UPDATE,
                            update=("10.",),
                            new_due=120,
                        ),
                    ),
                ),
                TopicSpec(
                    "京津冀政法数据共享平台建设",
                    "冀",
                    "平台建设方案涉及三地政务云资源，需报三地党委政法委主要负责同志研究。",
                    outcome=UNFINISHED,
                ),
            ),
        ),
    ),
    planned=MeetingSpec(28, "石家庄"),
)


# --------------------------------------------------------------------------- 嘉陵江: the river-basin procuratorates

JIALING = SeriesSpec(
    title="嘉陵江流域生态环境保护检察协作会商会",
    circle="jialing-river",
    kind=SeriesKind.CONSULTATION,
    members={
        "陇南": "陇南市人民检察院",
        "汉中": "汉中市人民检察院",
        "广元": "广元市人民检察院",
        "南充": "南充市人民检察院",
        "广安": "广安市人民检察院",
        "渝一分": "重庆市人民检察院第一分院",
    },
    meeting_title="嘉陵江流域生态环境保护检察协作第{n}次会商会",
    minutes_as_agreement=True,
    description="流域上下游检察机关按从上游到下游的顺序轮流承办，会商跨界污染、非法采砂等公益诉讼协作事项，"
    "会议纪要经各院确认后作为协作依据。",
    held=(
        MeetingSpec(
            -180,
            "广元",
            "广元",
            (
                TopicSpec(
                    "流域公益诉讼线索移送",
                    "广元",
                    "跨界污染线索发现地与管辖地不一致时，移送渠道和反馈时限不明确。",
                    decisions=(
                        DecisionSpec(
                            "建立嘉陵江流域公益诉讼案件线索双向移送机制",
                            NEW,
                            "线索发现地检察院7日内移送有管辖权的检察院，接收院30日内反馈处理情况。",
                            lead="广元",
                            co=("南充", "广安", "汉中", "陇南", "渝一分"),
                            due=-10,
                        ),
                    ),
                ),
                TopicSpec(
                    "非法采砂问题专项监督",
                    "南充",
                    decisions=(
                        DecisionSpec(
                            "联合开展嘉陵江流域非法采砂专项检察监督",
                            NEW,
                            lead="南充",
                            co=("广元", "广安"),
                            due=30,
                        ),
                        DecisionSpec("建立流域检察协作联络员制度，各院明确一名联络员"),
                    ),
                ),
                TopicSpec(
                    "生态环境损害赔偿资金管理使用衔接",
                    "渝一分",
                    "上下游赔偿资金的归集和跨区域使用涉及财政部门，需会后征求意见。",
                    outcome=UNFINISHED,
                ),
            ),
        ),
        MeetingSpec(
            -50,
            "南充",
            "南充",
            (
                TopicSpec(
                    "生态环境损害赔偿资金管理使用衔接",
                    carried=True,
                    decisions=(
                        DecisionSpec(
                            "研究制定流域生态环境修复资金衔接使用办法",
                            NEW,
                            lead="渝一分",
                            co=("南充", "广安"),
                            due=120,
                        ),
                    ),
                ),
                TopicSpec(
                    "非法采砂专项监督开展情况",
                    "南充",
                    "汛期禁采期间部分河段无法开展现场勘查。",
                    measures=("联合开展嘉陵江流域非法采砂专项检察监督",),
                    decisions=(
                        DecisionSpec(
                            "专项监督延至汛期结束后完成",
                            UPDATE,
                            update=("联合开展嘉陵江流域非法采砂专项检察监督",),
                            new_due=100,
                        ),
                    ),
                ),
                TopicSpec(
                    "跨省公益诉讼案件管辖协作",
                    "汉中",
                    "川陕甘三省交界河段案件的管辖和异地调查取证协作需报上级检察院协调。",
                    outcome=UNFINISHED,
                ),
            ),
        ),
    ),
    planned=MeetingSpec(14, "广安"),
)

SERIES = (CHENGYU, YANGTZE_DELTA, JINGJINJI_SERIES, JIALING)


# --------------------------------------------------------------------------- loader


class _Loader:
    def __init__(self, stdout=None):
        self.stdout = stdout
        self.today = timezone.localdate()
        usernames = set(LIAISONS.values()) | {spec.manager for spec in SERIES if spec.manager}
        self.users = {u.username: u for u in User.objects.filter(username__in=usernames).select_related("agency")}

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def load(self) -> dict[str, int]:
        created = {"series": 0, "meetings": 0, "topics": 0, "decisions": 0, "measures": 0}
        for spec in SERIES:
            if MeetingSeries.objects.filter(title=spec.title).exists():
                self.say(f"会议演示：《{spec.title}》已存在，未改动")
                continue
            counts = _SeriesLoader(self, spec).load()
            created["series"] += 1
            for key, value in counts.items():
                created[key] += value
            self.say(
                f"会议演示：《{spec.title}》已召开会议2次、计划1次，议题{counts['topics']}项，"
                f"议定事项{counts['decisions']}项（新增台账事项{counts['measures']}项）"
            )
        return created


class _SeriesLoader:
    """One series: its members, two held meetings run to approved minutes, and the planned one."""

    def __init__(self, loader: _Loader, spec: SeriesSpec):
        self.spec = spec
        self.today = loader.today
        self.users = loader.users
        circle = Circle.objects.filter(slug=spec.circle).first()
        if circle is None:
            raise LookupError(f"the meetings demo needs the directory demo first; circle {spec.circle} is missing")
        self.circle = circle
        found = {a.name: a for a in circle.agencies().filter(name__in=spec.members.values()).order_by("-pk")}
        missing = [name for name in spec.members.values() if name not in found]
        if missing:
            raise LookupError(f"the meetings demo needs the directory demo first; missing: {'、'.join(missing)}")
        self.agencies = {key: found[name] for key, name in spec.members.items()}
        self.manager = self.users.get(spec.manager) if spec.manager else None
        self.standing = None
        if spec.standing:
            self.standing = Agreement.objects.filter(title=spec.standing, circle=circle).first()
            if self.standing is None:
                raise LookupError(f"the meetings demo needs the ledger demo first; missing 《{spec.standing}》")
        self.counts = {"meetings": 0, "topics": 0, "decisions": 0, "measures": 0}

    def liaison(self, agency: Agency) -> User | None:
        return self.users.get(LIAISONS.get(agency.name, ""))

    def at(self, day: int, hour: int) -> datetime.datetime:
        moment = datetime.datetime.combine(self.today + datetime.timedelta(days=day), datetime.time(hour))
        return timezone.make_aware(moment)

    def load(self) -> dict[str, int]:
        spec = self.spec
        self.series = services.create_series(
            acting_user=self.manager,
            title=spec.title,
            kind=spec.kind,
            circle=self.circle,
            members=list(self.agencies.values()),
            standing_agreement=self.standing,
            rotation_rule=RotationRule.FIXED,
            description=spec.description,
        )
        for meeting_spec in spec.held:
            self.hold(self.schedule(meeting_spec), meeting_spec)
        planned = self.schedule(self.spec.planned)
        for topic in self.spec.planned.topics:
            self.propose(planned, topic, self.runner(planned))
        self.counts["topics"] = Topic.objects.filter(meeting__series=self.series).count()  # with the carried ones
        return self.counts

    def runner(self, meeting: Meeting):
        """The host's demo liaison if it has one, else the circle's coordinator (or the system)."""
        return self.liaison(meeting.host) or self.manager

    def schedule(self, spec: MeetingSpec) -> Meeting:
        host = self.agencies[spec.host] if spec.host else None
        number = Meeting.objects.filter(series=self.series).count() + 1
        starts_at = self.at(spec.day, 9)
        people = [user for agency in self.agencies.values() if (user := self.liaison(agency)) is not None]
        meeting = services.schedule_meeting(
            acting_user=self.manager,
            series=self.series,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(days=spec.days - 1, hours=8),
            host=host,
            place=spec.place,
            title=self.spec.meeting_title.format(n=chinese_number(number)),
            agenda_deadline=(starts_at - datetime.timedelta(days=7)).date(),
            participant_people=people,
            minutes_as_agreement=self.spec.minutes_as_agreement,
        )
        if host is not None and meeting.host_id != host.pk:
            raise AssertionError("schedule_meeting did not keep the host given")
        self.counts["meetings"] += 1
        return meeting

    def propose(self, meeting: Meeting, spec: TopicSpec, runner) -> Topic:
        agency = self.agencies[spec.by]
        person = self.liaison(agency)
        return services.propose_topic(
            acting_user=person or runner,
            meeting=meeting,
            title=spec.title,
            description=spec.description,
            measures=[self.measure(ref) for ref in spec.measures],
            agency=None if person else agency,
        )

    def measure(self, ref: str) -> Measure:
        """A measure the series follows, by its number in the standing agreement or by its title."""
        measures = selectors.series_measures(self.series)
        found = list(measures.filter(agreement=self.standing, number=ref)) if self.standing else []
        found = found or list(measures.filter(Q(title=ref)))
        if len(found) != 1:
            raise LookupError(f"the meetings demo: measure {ref!r} of {self.series.title} not found once")
        return found[0]

    def hold(self, meeting: Meeting, spec: MeetingSpec) -> None:
        """Agenda, meeting, outcomes, decisions, minutes drafted, submitted and approved by every member."""
        runner = self.runner(meeting)
        meeting = services.open_agenda(acting_user=runner, meeting=meeting)
        topics = []
        for topic_spec in spec.topics:
            if topic_spec.carried:
                topic = Topic.objects.get(meeting=meeting, title=topic_spec.title, carried_from__isnull=False)
            else:
                topic = self.propose(meeting, topic_spec, runner)
            topics.append((topic, topic_spec))
        services.close_agenda(acting_user=runner, meeting=meeting)
        services.mark_held(acting_user=runner, meeting=meeting)
        for topic, topic_spec in topics:
            services.set_topic_outcome(acting_user=runner, topic=topic, outcome=topic_spec.outcome)
            for decision in topic_spec.decisions:
                self.decide(runner, topic, decision)
        services.draft_minutes(acting_user=runner, meeting=meeting)
        meeting = services.submit_minutes(acting_user=runner, meeting=meeting)
        in_person = []
        for agency in self.agencies.values():  # approvals given on paper first; the last in person completes them
            person = self.liaison(agency)
            if person is None:
                services.approve_on_behalf(meeting=meeting, agency=agency)
            else:
                in_person.append(person)
        for person in in_person:
            services.approve_minutes(acting_user=person, meeting=meeting)
        meeting.refresh_from_db()
        if not meeting.is_frozen:
            raise AssertionError(f"the minutes of {meeting} were not approved by every member")
        self.counts["measures"] += meeting.decisions.filter(created_measure__isnull=False).count()

    def decide(self, runner, topic: Topic, spec: DecisionSpec) -> None:
        fields = {}
        if spec.kind == NEW:
            fields = {
                "lead": self.agencies[spec.lead],
                "co_owners": [self.agencies[key] for key in spec.co],
                "due_on": self.today + datetime.timedelta(days=spec.due),
            }
        elif spec.kind == UPDATE:
            fields = {
                "measures": [self.measure(ref) for ref in spec.update],
                "new_due_on": self.today + datetime.timedelta(days=spec.new_due),
            }
        services.record_decision(
            acting_user=runner, topic=topic, title=spec.title, kind=spec.kind, text=spec.text, **fields
        )
        self.counts["decisions"] += 1


def load_meetings_demo(stdout=None) -> dict[str, int]:
    """Create the demo series that do not exist yet; returns how many series, meetings, topics, … it created."""
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        return _Loader(stdout).load()


def demo_series():
    """The demo series present in the database."""
    return MeetingSeries.objects.filter(title__in=[spec.title for spec in SERIES])
