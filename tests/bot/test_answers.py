"""Reading farmers' answers: numbers in Chinese, IDs with typos, villages half-remembered."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import answers
from bot.answers import Unclear

VALID_ID = "11010519491231002X"


@pytest.mark.parametrize(("said", "yuan"), [
    ("三万", 30000), ("3万", 30000), ("30000元", 30000), ("大概两万五左右", 25000),
    ("1.5万", 15000), ("一万二", 12000), ("３００００", 30000), ("30,000块", 30000),
    ("八千多吧", 8000),
])
def test_income_in_the_ways_farmers_say_it(said: str, yuan: int) -> None:
    assert answers.amount(said) == Decimal(yuan)


@pytest.mark.parametrize("said", ["不知道", "很多", ""])
def test_income_not_understood_asks_again_with_an_example(said: str) -> None:
    with pytest.raises(Unclear, match="例如"):
        answers.amount(said)


def test_identity_in_either_order_and_lower_case_x() -> None:
    assert answers.identity(f"张三 {VALID_ID.lower()}") == answers.Identity("张三", VALID_ID)
    assert answers.identity(f"{VALID_ID}，张三") == answers.Identity("张三", VALID_ID)
    assert answers.identity(f"阿依古丽·买买提 {VALID_ID}").name == "阿依古丽·买买提"


def test_identity_errors_say_what_is_wrong() -> None:
    with pytest.raises(Unclear, match="校验位"):
        answers.identity("张三 110105194912310021")
    with pytest.raises(Unclear, match="18位"):
        answers.identity("张三 1101051949123100")
    with pytest.raises(Unclear, match="身份证号"):
        answers.identity("张三")


def test_choose_by_number_name_or_a_close_name() -> None:
    villages = ["东沟村", "西坡村", "南滩村", "北岭村"]
    assert answers.choose("2", villages) == 1
    assert answers.choose("三", villages) == 2
    assert answers.choose("北岭", villages) == 3
    assert answers.choose("西坡村委会", villages) == 1
    with pytest.raises(Unclear, match="序号"):
        answers.choose("9", villages)


def test_difficulty_mapped_to_risk_types() -> None:
    assert answers.risk_types("老伴住院做手术花了五万多") == ["illness"]
    assert answers.risk_types("冰雹把庄稼打了，房子也漏雨") == ["disaster", "industry", "housing"]
    assert answers.risk_types("说不清") == []


def test_phone_or_skip() -> None:
    assert answers.phone("138 0013 8000") == "13800138000"
    assert answers.phone("跳过") is None
    with pytest.raises(Unclear, match="11位"):
        answers.phone("12345")
