"""识别纳入: the identification procedure, top to bottom.

申请 → 入户核实 → 村民主评议 → 公示 → 乡镇审核 → 县级比对审定 → 纳入监测

Each pass runs from the top against the case record: stages already approved pass
through, the first one without a verdict is opened (or is still waiting for its cadre),
and the pass ends. A decision marks the case, and the worker runs the next pass.
The stages run in the order the case's definition keeps from config.yaml, which may add
stages of its own (each with its module, approvals/procedure/stages/) between these.
"""

from __future__ import annotations

from approvals.record.definitions import Stage
from approvals.record.models import Verdict
from workflows.passes import CaseRun, Outcome

# The stages this procedure is written around, in their order (workflows.advance.check holds
# config.yaml to it at start-up).
STAGES = (
    Stage.HOME_VERIFICATION,  # 入户核实: two people visit, findings recorded
    Stage.VILLAGE_REVIEW,  # 村民主评议: the meeting's vote
    Stage.PUBLIC_NOTICE,  # 公示: ends by itself; a substantiated objection returns
    Stage.TOWNSHIP_AUDIT,  # 乡镇审核
    Stage.COUNTY_APPROVAL,  # 县级比对审定: comparison with department data; enrolment, last
)


def identification(run: CaseRun) -> Outcome:
    if run.closed:
        return Outcome.CLOSED
    run.tell_fast_track()  # 先帮扶后认定: assisted first, the stages run all the same
    for stage in run.stages:
        match run.verdict_or_open(stage):
            case Verdict.APPROVED:
                continue
            case Verdict.RETURNED:
                return run.send_back()
            case Verdict.REJECTED:
                return run.reject()
            case None:
                return run.wait()
    return run.enroll()  # 纳入监测: category, paired cadre, planned measures
