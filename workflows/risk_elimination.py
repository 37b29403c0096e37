"""风险消除: the risk-elimination procedure, top to bottom.

村提出名单 → 入户核实 → 村民主评议 → (公示, if config says so) → 乡镇审核 → 县级审定 → 风险消除

The list itself is the case's opening (approvals.procedure.elimination.propose checks the criteria);
everything after it is the same machine as identification, with another outcome.
"""

from __future__ import annotations

from approvals.record.definitions import Stage
from approvals.record.models import Verdict
from workflows.passes import CaseRun, Outcome


def risk_elimination(run: CaseRun) -> Outcome:
    if run.closed:
        return Outcome.CLOSED
    for stage in (
        Stage.HOME_VERIFICATION,  # 入户核实: at least two people
        Stage.VILLAGE_REVIEW,  # 村民主评议
        *([Stage.PUBLIC_NOTICE] if run.with_public_notice else []),  # 公示
        Stage.TOWNSHIP_AUDIT,  # 乡镇审核
        Stage.COUNTY_APPROVAL,  # 县级审定
    ):
        match run.verdict_or_open(stage):
            case Verdict.APPROVED:
                continue
            case Verdict.RETURNED:
                return run.send_back()
            case Verdict.REJECTED:
                return run.reject()
            case None:
                return run.wait()
    return run.eliminate()  # 标注风险消除
