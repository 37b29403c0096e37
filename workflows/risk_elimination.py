"""风险消除: the risk-elimination procedure, top to bottom.

村提出名单 → 入户核实 → 村民主评议 → (公示, if config says so) → 乡镇审核 → 县级审定 → 风险消除

The list itself is the case's opening (approvals.procedure.elimination.propose checks the criteria);
everything after it is the same machine as identification, with another outcome. The stages
run in the order the case's definition keeps from config.yaml, which may add stages of its
own (each with its module, approvals/procedure/stages/) between these.
"""

from __future__ import annotations

from approvals.record.definitions import Stage
from approvals.record.models import Verdict
from workflows.passes import CaseRun, Outcome

# The stages this procedure is written around, in their order (workflows.advance.check holds
# config.yaml to it at start-up); 公示 only `with_public_notice`.
STAGES = (
    Stage.HOME_VERIFICATION,  # 入户核实: at least two people
    Stage.VILLAGE_REVIEW,  # 村民主评议
    Stage.PUBLIC_NOTICE,  # 公示
    Stage.TOWNSHIP_AUDIT,  # 乡镇审核
    Stage.COUNTY_APPROVAL,  # 县级审定
)


def risk_elimination(run: CaseRun) -> Outcome:
    if run.closed:
        return Outcome.CLOSED
    for stage in run.stages:
        if stage == Stage.PUBLIC_NOTICE and not run.with_public_notice:
            continue
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
