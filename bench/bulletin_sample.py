"""Synthetic content for a periodic bulletin (定期通报), to time ``ledger.documents`` without a database.

``sample_content(10_000, 500)`` is the scale of the bulletin target: 500 agencies in the ranking, about 1,500
overdue items, 1,000 behind plan and 300 supervision notices, with a daily trend over the period. The figures are
random but seeded, so every run renders the same document.

    from bulletin_sample import sample_content          # with bench/ on sys.path
    content = sample_content(10_000, 500)
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from yipanqi.ledger.documents import (
    AgencyRow,
    BulletinContent,
    CountRow,
    ItemRow,
    SupervisionRow,
    TrendPoint,
)

REGIONS = [
    ("四川省", ["成都市", "自贡市", "泸州市", "德阳市", "绵阳市", "广元市", "遂宁市", "内江市", "乐山市", "南充市"]),
    (
        "重庆市",
        ["渝中区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "渝北区", "巴南区", "万州区", "涪陵区"],
    ),
]
AGENCY_TYPES = ["中级人民法院", "人民检察院", "公安局", "司法局", "人民法院", "监狱", "仲裁委员会", "公证协会"]
TOPICS = [
    "异地财产查控",
    "委托执行案件移送",
    "跨域立案",
    "电子卷宗相互查阅",
    "律师异地阅卷",
    "警情协查",
    "公益诉讼线索移送",
    "社区矫正对象交接",
    "刑满释放人员衔接",
    "司法鉴定人名录共享",
    "涉案财产查控",
    "追逃协作",
    "典型案例联合发布",
    "量刑指引统一",
    "执法标准对接",
]
AGREEMENTS = [
    "《川渝法院执行协作框架协议》",
    "《成渝地区检察协作实施方案》",
    "《川渝公安警务协作备忘录》",
    "《成渝司法行政协作重点推进项目清单》",
]
LIGHTS = [("red", "红灯"), ("yellow", "黄灯"), ("blue", "蓝灯"), ("green", "绿灯"), ("done", "已销号")]
CATEGORIES = [("done", "完成类"), ("launch", "启动类"), ("study", "调研类"), ("regular", "常规类")]
CN_NUMBERS = "一二三四五六七八九十"


def _agency_names(n: int, rng: random.Random) -> list[tuple[str, str]]:
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    i = 0
    while len(names) < n:
        province, cities = REGIONS[i % 2]
        city = cities[(i // 2) % len(cities)]
        kind = AGENCY_TYPES[(i // 20) % len(AGENCY_TYPES)]
        name = f"{province}{city}{kind}" if province == "四川省" else f"重庆市{city}{kind}"
        if name in seen:
            name = f"{name}（第{len(names) // 160 + 1}分支）"
        if name not in seen:
            seen.add(name)
            names.append((name, f"{province}{city}" if province == "四川省" else f"重庆市{city}"))
        i += 1
    rng.shuffle(names)
    return names


def _item(i: int, rng: random.Random, agencies: list[tuple[str, str]], today: date, light: str) -> ItemRow:
    lead, co1, co2 = rng.sample(agencies, 3)
    due = today - timedelta(days=rng.randint(1, 240)) if light == "red" else today + timedelta(days=rng.randint(5, 300))
    area = CN_NUMBERS[i % 10]
    return ItemRow(
        number=f"{area}、{i % 97 + 1}",
        title=f"{rng.choice(TOPICS)}工作机制建设（第{i + 1}项）",
        agreement=rng.choice(AGREEMENTS),
        owners=f"主办{lead[0]}；协办{co1[0]}、{co2[0]}",
        due_on=due,
        progress=rng.randint(0, 95),
        light=light,
        light_label=dict(LIGHTS)[light],
        days_overdue=(today - due).days if light == "red" else 0,
    )


def sample_content(n_measures: int = 10_000, n_agencies: int = 500, *, seed: int = 7) -> BulletinContent:
    """A bulletin over ``n_measures`` measures owned by ``n_agencies`` agencies (15 % red, 10 % yellow)."""
    rng = random.Random(seed)
    period_end = date(2026, 10, 31)
    period_start = date(2026, 10, 1)
    issued_on = date(2026, 11, 21)
    agencies = _agency_names(max(n_agencies, 3), rng)
    n_red = n_measures * 15 // 100
    n_yellow = n_measures // 10
    n_done = n_measures * 30 // 100
    n_blue = n_measures * 5 // 100
    n_green = n_measures - n_red - n_yellow - n_done - n_blue
    n_closing = n_measures * 3 // 100
    n_supervisions = max(1, n_measures * 3 // 100)

    ranking = []
    for name, region in agencies[:n_agencies]:
        shares = rng.randint(5, 60)
        ranking.append(
            AgencyRow(
                rank=0,
                agency=name,
                region=region,
                shares=shares,
                closed=rng.randint(0, shares // 2),
                progress=rng.randint(10, 100),
                red=rng.randint(0, 6),
                yellow=rng.randint(0, 5),
                missing_reports=rng.randint(0, 4),
            )
        )
    ranking.sort(key=lambda row: (-row.progress, row.red, row.agency))
    for rank, row in enumerate(ranking, 1):
        row.rank = rank

    overdue = [_item(i, rng, agencies, period_end, "red") for i in range(n_red)]
    overdue.sort(key=lambda row: -row.days_overdue)
    behind = [_item(n_red + i, rng, agencies, period_end, "yellow") for i in range(n_yellow)]

    supervisions = []
    replied = 0
    for i in range(n_supervisions):
        issued = period_start + timedelta(days=rng.randint(0, 25))
        answered = rng.random() < 0.6
        replied += answered
        item = overdue[i % len(overdue)] if overdue else _item(i, rng, agencies, period_end, "red")
        supervisions.append(
            SupervisionRow(
                number=item.number,
                title=item.title,
                agency=rng.choice(agencies)[0],
                issued_on=issued,
                reply_due_on=issued + timedelta(days=7),
                status_label="已答复" if answered else "待答复",
                reply=(
                    "已召开专题会议研究推进，明确责任部门和完成时限，预计下月底前完成系统对接并报送成效材料。"
                    if answered
                    else ""
                ),
                replied_on=issued + timedelta(days=rng.randint(1, 7)) if answered else None,
            )
        )

    trend = []
    closed_total = max(0, n_done - 200)
    progress = 55
    day = period_start
    while day <= period_end:
        closed_total += rng.randint(0, 12)
        progress = min(100, progress + rng.choice([0, 0, 1]))
        trend.append(TrendPoint(day=day, reports=rng.randint(20, 400), closed_total=closed_total, progress=progress))
        day += timedelta(days=1)

    counts = dict(zip([k for k, _ in LIGHTS], [n_red, n_yellow, n_blue, n_green, n_done], strict=True))
    category_counts = [n_measures // 4] * 3 + [n_measures - 3 * (n_measures // 4)]
    return BulletinContent(
        title="关于成渝地区执法司法协作台账推进情况的通报（2026年10月）",
        doc_number="成渝政法协〔2026〕3号",
        issuer="成渝地区政法协作联席会议办公室",
        issuer_header="成渝地区政法协作联席会议办公室",
        issued_on=issued_on,
        period_start=period_start,
        period_end=period_end,
        scope="成渝地区双城经济圈政法协作",
        recipients="各成员单位：",
        cc="四川省委政法委，重庆市委政法委。",
        measures_total=n_measures,
        closed=n_done,
        closing=n_closing,
        open=n_measures - n_done - n_closing,
        overdue=n_red,
        avg_progress=round(sum(r.progress for r in ranking) / max(1, len(ranking))),
        reports_in_period=sum(p.reports for p in trend),
        missing_reports=sum(r.missing_reports for r in ranking),
        supervisions_issued=n_supervisions,
        supervisions_replied=replied,
        lights=[CountRow(label=label, count=counts[key], key=key) for key, label in LIGHTS],
        categories=[
            CountRow(label=label, count=count, key=key)
            for (key, label), count in zip(CATEGORIES, category_counts, strict=True)
        ],
        agencies=ranking,
        overdue_items=overdue,
        behind_items=behind,
        supervisions=supervisions,
        trend=trend,
    )
