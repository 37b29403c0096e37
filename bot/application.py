"""What the dialogue does to the record: submit an application (a new household or one of
the roster), refuse one that cannot be made, withdraw one before the village review."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from approvals.procedure import cases
from approvals.record.errors import Refused
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    CaseStatus,
    Household,
    MediaFile,
    Member,
    MonitoringStatus,
    Source,
)
from bot import progress
from bot.conversation import Turn


def cannot_apply(s: Session, household: Household) -> str | None:
    if household.monitoring == MonitoringStatus.MONITORED:
        return "您家已经是监测对象，有帮扶干部负责，不用再申请。有新情况请直接联系帮扶联系人。"
    open_case = s.scalar(select(Case).where(Case.household_id == household.id,
                                            Case.status == CaseStatus.OPEN))
    if open_case:
        return (f"您家已有正在办理的申请（编号 {open_case.number}），不用重复申请。"
                "回复「进度」可以查询办到哪一步。")
    return None


def submit(turn: Turn) -> str:
    ctx, d, conv = turn.ctx, turn.draft, turn.conv
    s = ctx.s
    cadre = s.get(Cadre, d["cadre_id"]) if d.get("cadre_id") else None
    household = s.get(Household, d["household_id"]) if d.get("household_id") else None
    member = None
    if household is None:
        household = Household(village_id=d["village_id"])
        member = Member(name=d["name"], id_number=d["id_number"], relation="户主", is_head=True,
                        phone=d.get("phone"))
        household.members.append(member)
        s.add(household)
        s.flush()
    else:
        member = next(m for m in household.members if m.id_number == d["id_number"])
        if d.get("phone") and not member.phone:
            member.phone = d["phone"]
    photos = list(s.scalars(select(MediaFile.media_id).where(
        MediaFile.openid == conv.openid, MediaFile.case_id.is_(None)).order_by(MediaFile.id)))
    definition = ctx.config.definition(CaseKind.IDENTIFICATION)
    try:
        case = cases.open_identification(
            s, household, definition=definition, calendar=ctx.calendar, now=ctx.now,
            source=Source.CADRE_VISIT if cadre else Source.WECHAT,
            filed_by=cadre.name if cadre else f"{d['name']}（微信申请）",
            risk_types=d["risks"], income_12m=Decimal(d["income"]),
            answers={"description": d["difficulty"], "household_size": d["size"],
                     "phone": d.get("phone"), "channel": "wechat", "consent": True,
                     "consent_at": ctx.now.isoformat(),
                     "filed_by_cadre_id": cadre.id if cadre else None},
            attachments=photos)
    except Refused as refused:
        turn.save("idle")
        conv.draft = {}
        return str(refused)
    if photos:
        s.execute(update(MediaFile).where(MediaFile.media_id.in_(photos))
                  .values(case_id=case.id))
    if cadre is None and member.openid is None and not s.scalar(
            select(func.count()).select_from(Member).where(Member.openid == conv.openid)):
        member.openid = conv.openid  # so that 进度 and the decision find this person
    turn.save("idle")
    conv.draft = {}
    stages = definition.procedure.stages
    first = next(iter(stages.values()))
    unit = "个工作日" if first.deadline.unit == "working" else "天"
    total_unit = "个工作日" if definition.procedure.total.unit == "working" else "天"
    told = ("办理进度可以在干部工作台查看。" if cadre
            else "结果会在这里告诉您。\n随时回复「进度」查看办到哪一步。")
    later = " → ".join(st.label for st in list(stages.values())[1:])
    return (f"已提交！申请编号：{case.number}\n"
            f"接下来：{first.label}（{first.deadline.days}{unit}内，干部会上门了解情况）→ {later}"
            f"，一般{definition.procedure.total.days}{total_unit}内办完，"
            f"{told}")


def ask_withdraw(turn: Turn) -> str:
    s = turn.ctx.s
    open_case = next((c for c in progress.cases_of(s, turn.conv.openid)
                      if c.status == CaseStatus.OPEN and c.kind == CaseKind.IDENTIFICATION), None)
    if open_case is None:
        return "没有查到可以撤回的申请。"
    if open_case.stage not in cases.WITHDRAWABLE:
        return "村里已经开始评议，不能再撤回了。如有疑问请联系村干部。"
    turn.save("withdraw", withdraw_case=open_case.id)
    return (f"确定要撤回申请 {open_case.number} 吗？撤回后需要重新申请。"
            "回复「确定」撤回，回复别的保留申请。")


def on_withdraw(turn: Turn, text: str) -> str:
    case_id = turn.draft.get("withdraw_case")
    turn.save("idle", withdraw_case=None)
    if text not in ("确定", "确定撤回", "撤回", "是", "对", "确认"):
        return "好的，申请保留，继续办理。"
    case = turn.ctx.s.get(Case, case_id)
    try:
        cases.withdraw(turn.ctx.s, case, by=f"{case.household.head.name}（微信）",
                       now=turn.ctx.now)
    except Refused as refused:
        return str(refused)
    return f"申请 {case.number} 已撤回。以后有需要可以随时重新申请。"
