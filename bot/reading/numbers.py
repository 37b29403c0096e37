"""Numbers as farmers say them: money (income or an expense) and the household's size.

Chinese numerals go through cn2an (`transform` turns 两万五 into 25000, 一万二千 into 12000,
五口人 into 5口人 inside a sentence); what it leaves is a digit with a unit (2.5万, 3w, 3万5,
10来万), read here. The text given is already without the name, ID number and phone
(names carry numerals: 张三, 王二妹; an ID number is digits).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import cn2an

from bot.reading import Amount

# cn2an warns (UserWarning) on every numeral it cannot read (一两万); the reader reads
# those itself, and a warning per chat message would only fill the log.
warnings.filterwarnings("ignore", category=UserWarning, module=r"cn2an(\.|$)")

_DIGIT = "一二两三四五六七八九"
_NUMERAL = re.compile("[零〇一二两三四五六七八九十百千万亿半廿壹贰叁肆伍陆柒捌玖拾佰仟]")
# 三四万, 一两千: a range said as two numerals; kept as the lower one, approximate
_RANGE = re.compile(rf"([{_DIGIT}])[{_DIGIT}]([十百千万])")
# 十来万 → 10来万 is left by cn2an; 三万来块 is read by the pattern below
# 一万五六: the range in the next order down, kept as its lower end
_TAIL_RANGE = re.compile(rf"([{_DIGIT}][万千][{_DIGIT}])[{_DIGIT}](?![十百千万])")
# 十几万: ten and some, kept as the round figure, approximate (十万多)
_TENS_OF = re.compile(r"([一二两三四五六七八九]?十)几(万|千|百|块|元)")
_A_LITTLE_MORE = re.compile(r"多点儿?|多一点")
_PERIOD = re.compile(r"(?<!十)一个?(月|年)")  # 十一个月 is eleven months
# 一点五万: cn2an reads 一点五 but not with the 万 after it
_DECIMAL = re.compile(r"([零一二两三四五六七八九十]+点[零一二三四五六七八九]+)(万|千)")
_NUMBER = re.compile(
    r"(?<![\d.])(?P<num>\d+(?:\.\d+)?)(?P<more1>多|余|来)?(?P<unit>万|w|千|k)?"
    r"(?P<tail>\d(?!\d))?(?P<more2>多|余|来)?(?P<yuan>元|块钱|块|圆)?",
    re.IGNORECASE)
_UNIT = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}
# what a number counts when it is not money: people, age, dates, times, land, animals
_NOT_MONEY = re.compile(r"\s*(口|个|人|位|岁|年|月|日|号|天|次|亩|头|只|间|级|斤|袋|周|"
                        r"星期|小时|分|点|楼|组|队|%|级|层|胎|辆|台|棵|趟|下|步|遍|回|顿|屁股|阵)")
_EXPENSE_AFTER = re.compile(r"\s*(多|余)?\s*(元|块钱|块)?\s*(的)?(外债|债|欠款|贷款|医药费|药费|"
                            r"医疗费|"
                            r"住院费|手术费|学费|费用|账|窟窿|饥荒)")
_ORDINAL = re.compile(r"第\s*$")

# 花了, 看病, 欠了, 借了: what was spent or owed; nearer to the figure than an income word
EXPENSE_WORDS = ("花了", "花掉", "花费", "花销", "花", "看病", "医药费", "医疗费", "住院费",
                 "手术费", "治疗费", "药费", "欠了", "欠", "借了", "借", "贷款", "外债", "债",
                 "损失", "赔了", "亏了", "亏", "学费", "开销", "支出", "费用", "交了", "自费",
                 "自付", "用了", "用掉", "垫了", "修房", "盖房", "彩礼", "要", "还差", "差了")
INCOME_WORDS = ("收入", "挣", "赚", "工资", "进账", "到手", "收成", "卖了", "卖", "低保",
                "养老金", "补贴", "一年", "全年", "每年", "年入", "打工", "种地", "能有")
_MONTHLY = re.compile(r"每个?月|(?<![0-9])1个月|月收入|月工资|月薪|按月|月入|月领|月均")
# (a period followed by its own figure is that figure's: 「一年三万 一个月两千」)
_MONTHLY_AFTER = re.compile(r"\s*(元|块钱|块)?\s*(1个月|一个月|每个?月|/月|一月)(?!\s*\d)")
# (「也就两万」 says it is little, not that it is rough: the figure is as said)
_APPROX_BEFORE = ("大概", "大约", "约", "差不多", "估计", "将近", "接近", "不到", "快", "可能",
                  "顶多", "最多", "至少", "大致")
_APPROX_AFTER = re.compile(r"\s*(元|块钱|块)?\s*(左右|上下|出头|的样子|来块|多块|多元|不到|还不到|"
                           r"以下|以内|挂[零0]|挂个[零0]|冒头|冒尖|露头|"
                           r"打底|朝上)")
_NO_INCOME = re.compile(r"(没有?|无|零)(啥|什么|任何|一点)?(收入|进账)|收入(为|是)?(0|零|没有|无)"
                        r"|[一1]分钱?\S{0,4}?(都|也)?没|(啥|什么|任何)(收入|进账)(也|都)没")
MAX_YUAN = 10_000_000


# 零 that is no zero: 打零工, 零花钱, 零活 (cn2an would make 打0工 a figure)
_NOT_ZERO = re.compile(r"零(?=工|活|钱|花|碎|售|头|用|件|食|散|星)")
# 万把块, 千把块: about ten thousand, a thousand
_ABOUT_ONE = re.compile(r"(?<![\d一二两三四五六七八九十])(万|千)把")
# digits and numeral units mixed (3万零5百, 2千零50): said in numerals, read by cn2an
_MIXED = re.compile(r"(?<![\d.])\d[万千](?:零?\d[千百十]?)*零\d[千百十]?(?![\d万千百十])")
_CN_DIGIT = str.maketrans("0123456789", "零一二三四五六七八九")


def prepare(text: str) -> str:
    """Chinese numerals as digits; a range (三四万) kept as its lower end, said as 左右."""
    text = _NOT_ZERO.sub("散", text)
    text = _ABOUT_ONE.sub(r"1\1左右", text)
    text = _MIXED.sub(lambda m: m.group().translate(_CN_DIGIT), text)
    text = _A_LITTLE_MORE.sub("多", _TENS_OF.sub(r"\1\2多", text))
    if not _NUMERAL.search(text):
        return text  # most messages: cn2an's dozen patterns need not run
    # 「1500一个月」, 「两千五一年」: the period said as 每, or cn2an runs the 1 into the figure
    text = _PERIOD.sub(lambda m: "每" + m.group(1), text)
    text = _RANGE.sub(lambda m: m.group(1) + m.group(2) + "左右", text)
    text = _TAIL_RANGE.sub(lambda m: m.group(1) + "左右", text)
    text = _DECIMAL.sub(lambda m: f"{cn2an.cn2an(m.group(1), 'smart')}{m.group(2)}", text)
    return str(cn2an.transform(text, "cn2an"))


@dataclass(frozen=True)
class Money:
    """One figure of money in the text: where it is and what it is."""

    amount: Amount
    start: int
    end: int
    kind: str | None  # "income", "expense" or None (no word said which)
    said_as_money: bool = False  # with 万, 千, 元 or 块 (「七十多」 alone may be an age)


def _value(m: re.Match[str]) -> int | None:
    value = float(m.group("num"))
    unit = (m.group("unit") or "").lower()
    if unit:
        value *= _UNIT[unit]
        if m.group("tail"):  # 3万5: the next order down
            value += int(m.group("tail")) * _UNIT[unit] // 10
    elif m.group("tail"):
        return None
    return round(value) if 0 <= value <= MAX_YUAN else None


def money(text: str, *, context_start: int = 0) -> list[Money]:
    """Every figure of money in a prepared text, with the words before it deciding its kind:
    the nearest of an expense word and an income word since the previous figure or the
    start of the clause."""
    found: list[Money] = []
    last_end = context_start
    for m in _NUMBER.finditer(text):
        after = text[m.end():]
        moneyish = bool(m.group("unit") or m.group("yuan"))
        if not moneyish and (_NOT_MONEY.match(after) or _ORDINAL.search(text[:m.start()])):
            last_end = m.end()
            continue
        if m.group("more1") == "来" and not m.group("unit") and not m.group("yuan"):
            # 10来 without 万 or 元 is a count (10来个), not money
            if not after.lstrip().startswith(("万", "块", "元")):
                last_end = m.end()
                continue
        value = _value(m)
        if value is None:
            last_end = m.end()
            continue
        window = text[last_end:m.start()]
        if _EXPENSE_AFTER.match(after):
            kind: str | None = "expense"  # 3万块的债
        else:
            kind = None
        strong = max(window.rfind(c) for c in ",.;!?。；！？\n")
        if strong >= 0:
            window = window[strong + 1:]
        approximate = bool(m.group("more1") or m.group("more2")
                           or any(w in window for w in _APPROX_BEFORE)
                           or _APPROX_AFTER.match(after))
        monthly = bool(_MONTHLY.search(window) or _MONTHLY_AFTER.match(after))
        found.append(Money(Amount(value, approximate=approximate, monthly=monthly),
                           m.start(), m.end(), kind or _kind(window), moneyish))
        last_end = m.end()
    return found


def _kind(window: str) -> str | None:
    expense = max((window.rfind(w) for w in EXPENSE_WORDS), default=-1)
    income = max((window.rfind(w) for w in INCOME_WORDS), default=-1)
    if expense < 0 and income < 0:
        return None
    return "expense" if expense > income else "income"


# wages withheld (「工钱一分没拿到」) are a debt owed, not what the household lives on
_PAY_WITHHELD = re.compile(r"(工钱|工资|工费|血汗钱)[^,，。]{0,4}?[一1]分钱?[^,，。]{0,3}?"
                           r"(都|也)?没(拿|给|发|结|要)")


def no_income(text: str) -> bool:
    """「没有收入」「一分钱都没有」: an income of nothing."""
    return bool(_NO_INCOME.search(_PAY_WITHHELD.sub(" ", text)))


# 干了8个月, 打了半年工 (after prepare): how many months a monthly pay came in
_MONTHS_WORKED = re.compile(r"(干|做|打工|打散工|上班|务工|出去|在外|干活|挣|打)(了|过)?\s*"
                            r"(?:(\d{1,2})\s*个?月|(半年))")


def over_months(prepared: str, amount: Amount) -> Amount:
    """A monthly income said with the months it came in (「一个月3000，干了8个月」) is the
    year's income: 24000, not 3000 a month."""
    m = _MONTHS_WORKED.search(prepared)
    months = (6 if m.group(4) else int(m.group(3))) if m else 0
    if not amount.monthly or not 1 <= months <= 12:
        return amount
    return Amount(amount.value * months, approximate=amount.approximate)


def combine(amounts: list[Amount]) -> Amount | None:
    """Several incomes in one message (「我打工两万，老伴种地五千」) add up; a monthly one and
    a yearly one are added by the year."""
    if not amounts:
        return None
    if len(amounts) == 1:
        return amounts[0]
    approximate = any(a.approximate for a in amounts)
    if all(a.monthly for a in amounts):
        return Amount(sum(a.value for a in amounts), approximate=approximate, monthly=True)
    return Amount(sum(a.yearly for a in amounts), approximate=approximate)


# The household's size: 五口人, 5个人, 一家四口 (after prepare: 5口人, 1家4口), 老两口
# (not per head: 「一个人一年多少钱」, 「好多钱一个人」 ask about the line, 「每人两万」 is money)
_SIZE = re.compile(r"(?<![\d.每钱块元])(\d{1,3})\s*(?:口人|口(?!子)|个人|人)(?!民|员|均|头|的)"
                   r"(?!\S{0,2}(拉扯|带|养|供|照顾|伺候))(?!每|1年|多少|平均)")
_FAMILY_OF = re.compile(r"家\s*(\d{1,2})\s*口")
# a form's label before the count (「人口：5」, 「家庭人口 4」, 「人数是3」)
_LABELLED = re.compile(r"(?:家庭人口|家里人口|人口数?|人数|家庭成员)\s*[:：]?\s*(?:是|有|共)?\s*"
                       r"(\d{1,2})(?![\d.万千百块元])")
_BARE = re.compile(r"^\s*(?:一共|总共|共|家里|我家|家庭人口|人口|人数)?\s*:?\s*(\d{1,3})\s*"
                   r"(?:口人|口|个人|个|人)?\s*[.。!]?$")
_TWO = re.compile(r"老两口|两口子|2口子|娘俩|娘儿俩|爷俩|爷儿俩|母子俩|父子俩|母女俩|父女俩|夫妻俩|"
                  r"俩人|"
                  r"就?我(和|跟|与)老伴(两个|俩)?(?!.*(还有|和|跟))|我们老两口|"
                  r"就?我们?(老)?俩")
_TWO_PEOPLE = re.compile(r"[两俩](?=\s*(口人|口(?!子)|个人|人))")
# 「我一个人拉扯三个娃」 is not a household of one: what follows says who else there is
_ONE = re.compile(r"(就我一个|我一个人|就我自己|一个人过|孤身一人|独居|一个人住|1个人过|就我1个|"
                  r"我1个人|光棍)(?!\S{0,2}(拉扯|带|养|供|照顾|伺候|劳力|劳动力|干活|挣钱|能干))")


_ONLY = re.compile(r"(就|只有?|只剩|剩下?)(我们?)?(老)?(两口|俩)")
# the count said last, alone: 「两口子加俩娃 四个」 totals what came before
_TOTAL_LAST = re.compile(r"(?:^|[\s,，。])(?:一共|1共|总共|共)?(\d{1,2})\s*"
                         r"(?:口人|口|个人|个|人)?\s*[.。!]?$")


def household_size(prepared: str, *, expecting: str | None) -> int | None:
    """The household's size, when said (or a bare number when the size was asked)."""
    prepared = _TWO_PEOPLE.sub("2", prepared)  # cn2an leaves 两 alone before 口
    if expecting == "size":
        total = _TOTAL_LAST.search(prepared)
        if total and 1 <= int(total.group(1)) <= 30:
            return int(total.group(1))
    for pattern in (_FAMILY_OF, _SIZE, _LABELLED):
        m = pattern.search(prepared)
        if m and 1 <= int(m.group(1)) <= 30:
            return int(m.group(1))
    if _ONE.search(prepared):
        return 1
    if _TWO.search(prepared) and (expecting != "difficulty" or _ONLY.search(prepared)):
        # told among the difficulty, 「两口子都在家闲着」 is who is idle, not the household
        return 2
    if expecting == "size":
        m = _BARE.match(prepared)
        if m and 1 <= int(m.group(1)) <= 30:
            return int(m.group(1))
    return None
