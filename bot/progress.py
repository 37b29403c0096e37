"""`进度`: where a household's case stands, in plain words, for the farmer who asked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session, selectinload

from approvals.calendar import local_date
from approvals.db import connection_of
from approvals.definitions import Definition
from approvals.models import Cadre, Case, CaseStatus, Member, Pairing, Place, Task, TaskStatus
from bot.conversation import Context

REVIEW_HINT = "如对结果有异议，可以向乡镇人民政府申请复核，也可以拨打12317热线反映。"


def day(moment: dt.datetime) -> str:
    d = local_date(moment)
    return f"{d.month}月{d.day}日"


_LATEST = (select(Case.id).join(Member, Member.household_id == Case.household_id)
           .where(Member.openid == bindparam("openid")).order_by(Case.id.desc())
           .limit(bindparam("limit")))


def latest_case_ids(s: Session | Connection, openid: str, limit: int = 3) -> list[int]:
    return list(connection_of(s).execute(_LATEST, {"openid": openid, "limit": limit})
                .scalars())


def cases_of(s: Session, openid: str, limit: int = 3) -> list[Case]:
    """The latest cases of the households this WeChat user belongs to, newest first."""
    return _load(s, latest_case_ids(s, openid, limit))


def _load(s: Session, ids: list[int]) -> list[Case]:
    if not ids:
        return []
    return list(s.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id.desc())
                          .options(selectinload(Case.tasks), selectinload(Case.definition))))


def holder(s: Session, task: Task, definition: Definition) -> str:
    """Who holds a stage: the assigned cadre by name, else the role at its place."""
    role = definition.roles[task.role].label
    if task.assignee_id:
        cadre = s.get(Cadre, task.assignee_id)
        if cadre:
            return f"{role}{cadre.name}"
    place = s.get(Place, task.place_id)
    return f"{place.name if place else ''}{role}"


def describe(s: Session, case: Case) -> str:
    definition = case.definition.parsed()
    head = f"申请编号 {case.number}（{definition.procedure.label}）"
    if case.status == CaseStatus.OPEN:
        live = [t for t in case.tasks if t.status == TaskStatus.OPEN]
        if not live:
            return f"{head}：已受理，正在安排入户核实。"
        task = live[-1]
        label = definition.stage(task.stage).label
        text = (f"{head}：现在是「{label}」这一步，由{holder(s, task, definition)}办理，"
                f"预计{day(task.due_at)}前完成；全部办完预计在{day(case.due_at)}前。")
        returned = [t for t in case.tasks if t.return_to and t.reason]
        if task.round > 1 and returned:
            text += f"\n上级退回重新办理，原因：{returned[-1].reason}"
        return text
    if case.status == CaseStatus.ENROLLED:
        paired = s.scalar(select(Cadre).join(Pairing, Pairing.cadre_id == Cadre.id).where(
            Pairing.household_id == case.household_id, Pairing.ended_on.is_(None)))
        contact = f"您的帮扶联系人：{paired.name}，电话 {paired.phone}。" if paired else ""
        return f"{head}：已审定，纳入监测，会为您家落实帮扶措施。{contact}"
    if case.status == CaseStatus.REJECTED:
        reason = (case.outcome_reason or "未说明").rstrip("。.")
        return f"{head}：未予纳入。原因：{reason}。{REVIEW_HINT}"
    if case.status == CaseStatus.ELIMINATED:
        return f"{head}：风险已消除。帮扶干部还会定期回访。"
    return f"{head}：已撤回。"


def progress(ctx: Context, openid: str) -> str:
    # most who ask have not applied yet: one indexed read, and no ORM session
    ids = latest_case_ids(ctx.conn, openid)
    if not ids:
        return "还没有查到您的申请。回复「申请」可以开始申请。"
    return "\n\n".join(describe(ctx.s, case) for case in _load(ctx.s, ids))
