"""Who may act on which task: role × jurisdiction, and the paired cadre for home visits."""

from __future__ import annotations

from approvals.definitions import Stage
from approvals.errors import NotAllowed
from approvals.models import Cadre, Task


def ensure_may_act(actor: Cadre, task: Task, role_label: str) -> None:
    if not actor.active:
        raise NotAllowed("您的账号已停用，无法办理。")
    paired_visit = task.stage == Stage.HOME_VERIFICATION and task.assignee_id == actor.id
    if actor.role != task.role and not paired_visit:
        raise NotAllowed(f"这项任务需由{role_label}办理，您无权操作。")
    if not actor.place.contains(task.place):
        raise NotAllowed("这户不在您的管辖范围内，您无权操作。")
