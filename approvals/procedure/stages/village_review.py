"""村民主评议: the villagers' representatives meet and vote.

What the meeting records is checked before either verdict, because it is what decides it:
the representatives' number (应到人数, typed on the form: the village's own register of
representatives is not in the record), those present, and votes for, against and abstaining,
all whole numbers, the votes adding up to at most those present. The meeting counts only with
a quorum of the representatives present, and its vote passes only with more than the passing
share of those present voting for (the case's definition: config.yaml `village_review`,
defaults 2/3 and 1/2). Approving a case whose vote did not pass, or rejecting one whose vote
passed, is refused: the verdict is the meeting's. The minutes' photos are kept with the
task (approvals/record/photos.py), whichever the verdict.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, number, text
from approvals.record.definitions import Definition, VoteRules
from approvals.record.errors import Refused
from approvals.record.models import Case
from approvals.record.wording import REJECTION


class VillageReview(Form):
    meeting_on: dt.date = Field(title="评议日期")
    expected: int = Field(title="应到人数", gt=0)  # the village's representatives
    attendance: int = Field(title="参会人数", gt=0)
    votes_for: int = Field(title="同意票数", ge=0)
    votes_against: int = Field(default=0, title="反对票数", ge=0)
    abstentions: int = Field(default=0, title="弃权票数", ge=0)
    minutes: str = Field(default="", title="会议纪要")

    @model_validator(mode="after")
    def _possible(self) -> VillageReview:
        if self.attendance > self.expected:
            raise ValueError(f"参会人数（{self.attendance}人）不能多于应到人数"
                             f"（{self.expected}人）")
        cast = self.votes_for + self.votes_against + self.abstentions
        if cast > self.attendance:
            raise ValueError(f"同意、反对、弃权票数合计{cast}票，多于参会人数"
                             f"（{self.attendance}人），请核对表决结果")
        return self


def _fraction(share: str) -> str:
    f = Fraction(share)
    return {Fraction(1, 2): "一半", Fraction(2, 3): "三分之二"}.get(f, f"{f.numerator}/"
                                                                   f"{f.denominator}")


def _vote(rules: VoteRules, review: dict[str, Any]) -> bool:
    """Whether the meeting's vote passed; refused when the meeting did not count."""
    expected, present = review["expected"], review["attendance"]
    if not rules.quorate(expected, present):
        raise Refused(f"参会{present}人，不足应到{expected}人的{_fraction(rules.quorum)}，"
                      "评议不成立，请重新召开村民代表会议。")
    return rules.passed(present, review["votes_for"])


class VillageReviewStage(StageModule):
    key = "village_review"
    guidance = ("召开村民代表会议评议，记录应到、参会人数和同意、反对、弃权票数，"
                "会议纪要拍照上传。表决结果决定是否通过。")

    def form(self, definition: Definition) -> type[Form]:
        return VillageReview

    def check(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        review = super().check(definition, data)
        rules = definition.village_review
        if not _vote(rules, review):
            raise Refused(f"表决未通过：同意{review['votes_for']}票，未超过参会"
                          f"{review['attendance']}人的{_fraction(rules.pass_share)}，"
                          f"不能作“通过”处理；请选择“{REJECTION[definition.kind]}”并写明理由。")
        return review

    def check_rejection(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        review = super().check(definition, data)  # a rejection records the vote too
        rules = definition.village_review
        if _vote(rules, review):
            raise Refused(f"表决已通过：同意{review['votes_for']}票，超过参会"
                          f"{review['attendance']}人的{_fraction(rules.pass_share)}，"
                          f"不能作“{REJECTION[definition.kind]}”处理。")
        return review

    def rule(self, definition: Definition) -> str:
        """The rule as the page states it to the cadre."""
        rules = definition.village_review
        return (f"参会人数不少于应到人数的{_fraction(rules.quorum)}，评议方为有效；"
                f"同意票超过参会人数的{_fraction(rules.pass_share)}为通过。"
                "是否通过以表决结果为准。")

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        return {"meeting_on": text(posted, "meeting_on") or None,
                "expected": number(posted, "expected"),
                "attendance": number(posted, "attendance"),
                "votes_for": number(posted, "votes_for"),
                "votes_against": number(posted, "votes_against") or 0,
                "abstentions": number(posted, "abstentions") or 0,
                "minutes": text(posted, "minutes")}

    def summary(self, data: dict[str, Any]) -> str:
        expected = f"应到{data['expected']}人，" if data.get("expected") else ""
        return (f"{expected}参会{data.get('attendance')}人，同意{data.get('votes_for')}票，"
                f"反对{data.get('votes_against', 0)}票，弃权{data.get('abstentions', 0)}票。")

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        return {"meeting_on": "2026-11-03", "expected": 25, "attendance": 23, "votes_for": 21,
                "votes_against": 1, "abstentions": 1, "minutes": "村民代表会议评议通过。"}


STAGE = VillageReviewStage()
