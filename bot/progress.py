"""`进度`: where a household's case stands, in plain words, for the farmer who asked."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, and_, bindparam, select
from sqlalchemy.orm import Session

from approvals.procedure.cases import heard_of_sql
from approvals.procedure.holders import Holders, holding_assignee
from approvals.record.calendar import shown_due
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    CaseStatus,
    Definition,
    Member,
    Pairing,
    Place,
    Reexamination,
    ReexaminationResult,
    ReexaminationStatus,
    Task,
    TaskStatus,
)
from approvals.record.models.cases import case_number, parsed_definition
from bot import wording
from bot.conversation import Context

if TYPE_CHECKING:
    from fangfan.config import Config

# The farmer's latest cases (at most three), and the tasks of those still open, each with
# the name of whoever holds it: one indexed read, a row per task (one for a closed case).
# A screening case the household has not heard of yet is not among them (cases.heard_of).
_LATEST = (select(Case.id, Case.opened_at, Case.status, Case.due_at, Case.outcome_reason,
                  Case.household_id, Case.definition_id)
           .join(Member, Member.household_id == Case.household_id)
           .where(Member.openid == bindparam("openid"), heard_of_sql())
           .order_by(Case.id.desc())
           .limit(3).subquery("latest"))
_PROGRESS = (select(_LATEST, Definition.digest, Task.stage, Task.round,
                    Task.status.label("task_status"), Task.role, Task.place_id,
                    Task.due_at.label("task_due_at"),
                    Task.return_to, Task.reason, Cadre.name.label("assignee"),
                    Place.name.label("place"))
             .join(Definition, Definition.id == _LATEST.c.definition_id)
             .outerjoin(Task, and_(Task.case_id == _LATEST.c.id,
                                   _LATEST.c.status == CaseStatus.OPEN))
             .outerjoin(Place, Place.id == Task.place_id)
             .outerjoin(Cadre, holding_assignee(Cadre))  # else its seat holds it
             .order_by(_LATEST.c.id.desc(), Task.id))
_HELPER = (select(Cadre.name, Cadre.phone).join(Pairing, Pairing.cadre_id == Cadre.id)
           .where(Pairing.household_id == bindparam("household"), Pairing.ended_on.is_(None))
           .limit(1))


def cases_of(s: Session, openid: str) -> list[Case]:
    """The latest cases (at most three) of the households this WeChat user belongs to,
    newest first."""
    return list(s.scalars(select(Case).where(Case.id.in_(select(_LATEST.c.id)))
                          .order_by(Case.id.desc()), {"openid": openid}))


def describe(conn: Connection, case: Row[Any], tasks: list[Row[Any]], config: Config) -> str:
    """One case in plain words; `case` and `tasks` are rows of `_PROGRESS`. Who holds it is
    said as the field says it: 由刘书记（村干部）办理, the role as config.yaml labels it."""
    definition = parsed_definition(conn, case.digest)
    # a risk elimination is not the household's application: it is told in its own words
    elimination = definition.kind == CaseKind.RISK_ELIMINATION
    head = (f"{'编号' if elimination else '申请编号'} {case_number(case.id, case.opened_at)}"
            f"（{definition.procedure.label}）")
    if case.status == CaseStatus.OPEN:
        live = [t for t in tasks if t.task_status == TaskStatus.OPEN]
        if not live:
            return f"{head}：已受理，正在安排入户核实。"
        task = live[-1]
        role = definition.roles[task.role].label
        names = task.assignee or "、".join(c.name for c in Holders.read(  # its seat's
            conn, places={task.place_id}, assignees=()).of(None, task.role, task.place_id))
        holder = f"{names}（{role}）" if names else f"{task.place}的{role}"
        label = definition.stage(task.stage).label
        text = (f"{head}：现在是「{label}」这一步，由{holder}办理，"
                f"预计{shown_due(task.task_due_at)}前完成；全部办完预计在{shown_due(case.due_at)}前。")
        returned = [t for t in tasks if t.return_to and t.reason]
        if task.round > 1 and returned:
            text += f"\n上级退回重新办理，原因：{returned[-1].reason}"
        return text
    if case.status == CaseStatus.ENROLLED:
        helper = conn.execute(_HELPER, {"household": case.household_id}).first()
        contact = f"您的帮扶联系人：{helper.name}，电话 {helper.phone}。" if helper else ""
        return f"{head}：已审定，纳入监测，会为您家落实帮扶措施。{contact}"
    if case.status == CaseStatus.REJECTED:
        reason = (case.outcome_reason or "未说明").rstrip("。.")
        if elimination:
            return f"{head}：暂不标注风险消除，继续作为监测对象落实帮扶。原因：{reason}。"
        return f"{head}：不予纳入。原因：{reason}。{_reexamination(conn, case.id, config)}"
    if case.status == CaseStatus.ELIMINATED:
        return f"{head}：已标注风险消除。帮扶干部还会定期回访。"
    return f"{head}：已撤回。"


# the case's latest 复核, read only for a case closed as 不予纳入
_REEXAMINATION = (select(Reexamination.status, Reexamination.result, Reexamination.due_at)
                  .where(Reexamination.case_id == bindparam("case"))
                  .order_by(Reexamination.id.desc()).limit(1))


def _reexamination(conn: Connection, case_id: int, config: Config) -> str:
    review = conn.execute(_REEXAMINATION, {"case": case_id}).first()
    # a revoked one reopened the case: this rejection came after it and may be examined
    if review is None or review.result == ReexaminationResult.REVOKED:
        return f"{wording.review_hint(config)}回复「申请复核」加上理由即可申请。"
    if review.status == ReexaminationStatus.OPEN:
        return f"您已申请复核，正在办理，预计{shown_due(review.due_at)}前有结果。"
    return f"复核结果：维持原结论。如仍有异议，可以拨打{config.notice.hotline}热线反映。"


def progress(ctx: Context, openid: str) -> str:
    """One read on a Core connection, and none more for most: this answers the flood of
    「进度」 after a notice goes out."""
    rows = ctx.conn.execute(_PROGRESS, {"openid": openid}).all()
    if not rows:
        return "还没有查到您的申请。回复「申请」可以开始申请。"
    by_case = [list(group) for _, group in groupby(rows, key=lambda row: row.id)]
    return "\n\n".join(describe(ctx.conn, one[0], [t for t in one if t.stage is not None],
                                ctx.config) for one in by_case)
