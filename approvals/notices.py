"""The public notice (公示) of a case: where and when the village posted it.

The period counts from the day the notice went up, so a notice posted after its task opened
ends correspondingly later; it never ends earlier than the period from the task's opening.
The notice then passes by itself (workflows/steps.py) once its period is over with no open
objection; objections are in approvals/objections.py.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from approvals import audit
from approvals.calendar import WorkCalendar, local_date, start_of_day
from approvals.decisions import already_decided, load_ref
from approvals.definitions import Stage
from approvals.errors import Refused
from approvals.models import Case, Task, TaskStatus
from approvals.models.cases import parsed_definition
from approvals.permissions import Actor, ensure_may_act


def post_notice(s: Session, task_id: int, actor: Actor, *, posted_on: dt.date, where: str,
                now: dt.datetime, calendar: WorkCalendar) -> dt.datetime:
    """Record the posting; returns the end of the notice period."""
    task = load_ref(s, task_id)
    definition = parsed_definition(s, task.definition_digest)
    ensure_may_act(actor, task, definition.roles[task.role].label)
    if task.stage != Stage.PUBLIC_NOTICE:
        raise Refused("这项任务不是公示环节。")
    if task.status != TaskStatus.OPEN:
        raise already_decided(task)
    if not where.strip():
        raise Refused("请填写张贴地点，如“村委会公示栏”。")
    s.execute(select(Case.id).where(Case.id == task.case_id).with_for_update())
    row = s.get_one(Task, task_id)
    if posted_on < local_date(row.opened_at) or posted_on > local_date(now):
        raise Refused("张贴日期应在公示环节开始之后、今天或之前。")
    due_at = max(row.due_at, calendar.due(start_of_day(posted_on),
                                          definition.stage(Stage.PUBLIC_NOTICE).deadline))
    data = {**row.data, "posted_on": posted_on.isoformat(), "where": where.strip(),
            "posted_by": actor.name}
    s.execute(update(Task).where(Task.id == task_id).values(data=data, due_at=due_at))
    audit.append(s, actor=f"cadre:{actor.id}", action="notice.posted", now=now,
                 case_id=task.case_id, payload={"task": task_id, "posted_on":
                                                posted_on.isoformat(), "where": where.strip()})
    return due_at
