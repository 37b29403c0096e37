"""家庭人均纯收入: one computation for every record that measures a household's income (the
home verification, approvals/procedure/stages/home_verification.py, and the revisits,
approvals/assistance/revisits.py).

Income over the last 12 months by kind, minus what producing it cost, divided by the people
of the household.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# 收入 by kind (key → label), and the cost subtracted from them
INCOME_KINDS = {"wage": "工资性收入", "business": "生产经营性收入", "property": "财产性收入",
                "transfer": "转移性收入"}
PRODUCTION_COSTS = "生产经营费用"


def per_capita_net(*, wage: Decimal, business: Decimal, property: Decimal, transfer: Decimal,
                   production_costs: Decimal, members: int) -> Decimal:
    """(工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营费用) ÷ 家庭人口, yuan per person."""
    net = wage + business + property + transfer - production_costs
    return (net / max(members, 1)).quantize(Decimal("0.01"), ROUND_HALF_UP)
