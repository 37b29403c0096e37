"""The application's last steps in the chat: who may apply, the summary sent
(approvals.procedure.applications records it), withdrawing one before the village review, and
asking for a 复核 of one not enrolled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.procedure import applications, cases, reexaminations
from approvals.procedure.cases import heard_of
from approvals.procedure.permissions import Actor
from approvals.record.calendar import last_day
from approvals.record.definitions import Level
from approvals.record.errors import Refused
from approvals.record.models import (
    Case,
    CaseKind,
    CaseStatus,
    Household,
    Member,
    MonitoringStatus,
    Reexamination,
)
from bot import progress
from bot.conversation import Turn
from notifications import reexaminations as reexaminations_told


def cannot_apply(s: Session, household: Household, openid: str) -> str | None:
    """Why this household may not apply now, or None. The case number is said only to a
    WeChat user of the household (name and ID number are no proof of being one of them)."""
    if household.monitoring == MonitoringStatus.MONITORED:
        return "您家已经是监测对象，有帮扶干部负责，不用再申请。有新情况请直接联系帮扶联系人。"
    open_case = s.scalar(select(Case).where(Case.household_id == household.id,
                                            Case.status == CaseStatus.OPEN))
    if open_case and not heard_of(open_case.source, open_case.tasks):
        # a screening case before its visit: no number, nothing of the departments' data
        return "您家的情况干部已经在了解，近期会上门，不用重复申请。有急事请直接联系村干部。"
    ours = bool(s.scalar(select(Member.id).where(Member.household_id == household.id,
                                                 Member.openid == openid).limit(1)))
    if open_case and ours:
        return (f"您家已有正在办理的申请（编号 {open_case.number}），不用重复申请。"
                "回复「进度」可以查询办到哪一步。")
    if open_case:
        return ("这户已有正在办理的申请，不用重复申请。办理进度请用申请时的微信回复「进度」查询，"
                "或联系村干部。")
    return None


def filer(turn: Turn) -> Actor | None:
    """The cadre filing for a household (干部代为申请), or None when farmers apply themselves."""
    cadre_id = turn.draft.get("cadre_id")
    return Actor.load(turn.ctx.s, cadre_id) if cadre_id else None


def submit(turn: Turn) -> str:
    ctx, d, conv = turn.ctx, turn.draft, turn.conv
    definition = ctx.config.definition(CaseKind.IDENTIFICATION)
    try:
        cadre = filer(turn)
        # filed by a cadre: the household's own 承诺授权, confirmed on its WeChat, or its
        # signed form photographed on the case page (the cadre's 「同意」 is not theirs)
        on_wechat = bool(cadre) and applications.household_on_wechat(ctx.s, d.get("household_id"))
        consent = (applications.Consent(in_chat=on_wechat, photo_to_come=not on_wechat)
                   if cadre else None)
        case = applications.apply(
            ctx.s, applications.Applicant(d["name"], d["id_number"], d.get("phone"),
                                          d.get("household_id"), d.get("village_id")),
            openid=conv.openid, filed_by=cadre, definition=definition,
            calendar=ctx.calendar, now=ctx.now, risk_types=d["risks"],
            income_12m=Decimal(d["income"]),
            answers={"description": d["difficulty"], "household_size": d["size"],
                     "phone": d.get("phone"), "channel": "wechat", "consent": True,
                     "consent_at": ctx.now.isoformat(), **_as_said(d)}, consent=consent)
    except Refused as refused:
        turn.save("idle")
        conv.draft = {}
        return str(refused)
    turn.save("idle")
    conv.draft = {}
    stages = definition.procedure.stages
    first = next(iter(stages.values()))
    unit = "个工作日" if first.deadline.unit == "working" else "天"
    total_unit = "个工作日" if definition.procedure.total.unit == "working" else "天"
    told = ("办理进度可以在干部工作台查看。" if cadre
            else "结果会在这里告诉您。\n随时回复「进度」查看办到哪一步。")
    if consent is not None:
        told += ("已请农户在微信中回复「确认授权」，确认前不能通过审核。" if consent.in_chat else
                 "请在干部工作台的案件页上传农户签字的《监测对象申请及承诺授权查询书》照片，"
                 "上传前不能通过审核。")
    later = " → ".join(st.label for st in list(stages.values())[1:])
    return (f"已提交！申请编号：{case.number}\n"
            f"接下来：{first.label}（{first.deadline.days}{unit}内，干部会上门了解情况）→ {later}"
            f"，一般{definition.procedure.total.days}{total_unit}内办完，"
            f"{told}")


def _as_said(d: dict[str, Any]) -> dict[str, Any]:
    """How the farmer said the money (「三万多」: approximate; 「一个月两千」: monthly), and
    what the difficulty cost, kept beside the figures for the cadre who verifies them."""
    keys = ("income_approximate", "income_monthly", "expense", "expense_approximate",
            "expense_monthly")
    return {k: d[k] for k in keys if d.get(k) is not None}


def confirm_consent(turn: Turn) -> str:
    """「确认授权」: the household confirms the 承诺授权 of an application a cadre filed for it."""
    case = applications.confirm_in_chat(turn.ctx.s, turn.conv.openid, turn.ctx.now)
    if case is None:
        return "没有需要您确认授权的申请。回复「进度」可以查询办理情况。"
    return (f"已确认授权，谢谢。申请（编号 {case.number}）继续办理，"
            "结果会在这里告诉您。回复「进度」可以查询。")


def ask_withdraw(turn: Turn) -> str:
    s = turn.ctx.s
    open_case = next((c for c in progress.cases_of(s, turn.conv.openid)
                      if c.status == CaseStatus.OPEN and c.kind == CaseKind.IDENTIFICATION), None)
    if open_case is None:
        return "没有查到可以撤回的申请。"
    if open_case.stage not in cases.WITHDRAWABLE:
        return "已经开始民主评议，不能再撤回了。如有疑问请联系办理的干部。"
    turn.save("withdraw", withdraw_case=open_case.id)
    return (f"确定要撤回申请 {open_case.number} 吗？撤回后需要重新申请。"
            "回复「确定」撤回，回复别的保留申请。")


def on_withdraw(turn: Turn, confirmed: bool) -> str:
    """The answer to 「确定要撤回吗」: only a plain yes withdraws."""
    case_id = turn.draft.get("withdraw_case")
    turn.save("idle", withdraw_case=None)
    if not confirmed or case_id is None:
        return "好的，申请保留，继续办理。"
    case = turn.ctx.s.get_one(Case, case_id)
    try:
        cases.withdraw(turn.ctx.s, case, by=f"{case.household.head.name}（微信）",
                       now=turn.ctx.now)
    except Refused as refused:
        return str(refused)
    return f"申请 {case.number} 已撤回。以后有需要可以随时重新申请。"


def ask_grounds(turn: Turn) -> str:
    """「为什么不给我办」, 「申请复核」 without reasons: the rejection's reason is said and the
    grounds asked (a 复核 is filed only with them); when no 复核 may be asked, why not."""
    s = turn.ctx.s
    case = next((c for c in progress.cases_of(s, turn.conv.openid)
                 if c.kind == CaseKind.IDENTIFICATION), None)
    reviews = list(s.scalars(select(Reexamination).where(Reexamination.case_id == case.id))
                   ) if case else []
    if case is None or not reexaminations.may_request(s, case, reviews):
        return reexamine(turn, "")  # says why not: none, still open, asked already
    township = turn.ctx.config.levels[Level.TOWNSHIP]
    reason = (case.outcome_reason or "未说明").rstrip("。.")
    turn.save("reexamine", reexamine_case=case.id)
    return (f"您的申请（编号 {case.number}）经审核不予纳入，原因：{reason}。\n"
            f"如果您不同意，可以申请复核，{township}会重新审查。请说说您的理由（例如：医药费票据"
            "没算进去），我转过去；不申请复核请回复「算了」。")


def on_grounds(turn: Turn, text: str, declined: bool) -> str:
    """The answer to 「请说说您的理由」."""
    turn.save("idle", reexamine_case=None)
    if declined or not text.strip():
        return "好的，不申请复核。有疑问可以回复「找干部」，或拨打" \
            f"{turn.ctx.config.notice.hotline}。"
    return reexamine(turn, text.strip()[:500])


def reexamine(turn: Turn, grounds: str) -> str:
    """申请复核 / 我不服 / 要求复核: the household's latest application, if it was not enrolled,
    goes to the township again (approvals.procedure.reexaminations)."""
    ctx = turn.ctx
    try:
        review = reexaminations.request_from_chat(
            ctx.s, turn.conv.openid, grounds, now=ctx.now, calendar=ctx.calendar,
            rules=ctx.config.reexamination)
    except Refused as refused:
        return str(refused)
    reexaminations_told.to_holders(ctx.s.connection(), review.id, ctx.now)
    case = ctx.s.get_one(Case, review.case_id)
    day = last_day(review.due_at)
    township = ctx.config.levels[Level.TOWNSHIP]
    return (f"已收到您对申请 {case.number} 的复核申请，{township}会重新审查，"
            f"{day.month}月{day.day}日前办结，结果会通过这里告诉您。")
