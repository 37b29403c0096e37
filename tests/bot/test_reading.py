"""The reader (bot/reading): what a farmer types, read into an intent and slots.

No database: `read` takes the text, what the bot asked and a Vocabulary built here from the
project's config.yaml (its villages, risk types and FAQ), as the dialogue builds it.
"""

from __future__ import annotations

import random
from pathlib import Path

import cn2an
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from bot.reading import Amount, FaqEntry, Intent, Reading, Vocabulary, read
from bot.reading.faq import match
from fangfan.config import load

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load(ROOT / "config.yaml")
VILLAGES = tuple(v for t in CONFIG.places.townships for v in t.villages)
FAQ = tuple(FaqEntry(f.key, tuple(f.questions), f.answer) for f in CONFIG.chat.faq)
VOCABULARY = Vocabulary(villages=VILLAGES, risk_types=dict(CONFIG.risk_types), faq=FAQ)
WANG = "510122195803121145"  # 王秀英's, as in the issue


def said(text: str, expecting: str | None = None) -> Reading:
    return read(text, expecting=expecting, vocabulary=VOCABULARY)


def id_number(rng: random.Random) -> str:
    """A valid ID number: an area, a birth date, a sequence, the right check digit."""
    body = (f"{rng.choice(['110101', '110105', '510122', '433130'])}"
            f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"{rng.randint(0, 999):03d}")
    return body + ric.calc_check_digit(body + "0")


# ---- numbers and amounts ----

@pytest.mark.parametrize(("text", "amount"), [
    ("三万多", Amount(30000, approximate=True)),
    ("两万五", Amount(25000)),
    ("2.5万", Amount(25000)),
    ("3w", Amount(30000)),
    ("3W", Amount(30000)),
    ("一万二千", Amount(12000)),
    ("八万多元", Amount(80000, approximate=True)),
    ("大概两万", Amount(20000, approximate=True)),
    ("两万左右", Amount(20000, approximate=True)),
    ("3万5", Amount(35000)),
    ("三四万", Amount(30000, approximate=True)),
    ("两万八千元", Amount(28000)),
    ("一个月两千", Amount(2000, monthly=True)),
    ("每月2000", Amount(2000, monthly=True)),
    ("一年打工挣了两万多块钱", Amount(20000, approximate=True)),
    ("1500一个月", Amount(1500, monthly=True)),
    ("一千五一个月", Amount(1500, monthly=True)),
    ("一万五六", Amount(15000, approximate=True)),
    ("一点五万", Amount(15000)),
    ("十几万", Amount(100000, approximate=True)),
    ("六千来块", Amount(6000, approximate=True)),
])
def test_income_as_said(text: str, amount: Amount) -> None:
    reading = said(text, "income")
    assert reading.intent is Intent.ANSWER
    assert reading.slots.income == amount


def test_a_monthly_income_stays_monthly_and_says_its_year() -> None:
    income = said("一个月两千", "income").slots.income
    assert income == Amount(2000, monthly=True)
    assert income is not None and income.yearly == 24000


def test_several_incomes_add_up_by_the_year() -> None:
    assert said("我打工一年两万，老伴种地五千", "income").slots.income == Amount(25000)


@pytest.mark.parametrize("expecting", [None, "income", "difficulty"])
def test_what_was_spent_is_an_expense_never_income(expecting: str | None) -> None:
    slots = said("老伴住院花了八万多", expecting).slots
    assert slots.income is None
    assert slots.expense == Amount(80000, approximate=True)


def test_income_and_expense_in_one_message() -> None:
    slots = said("去年卖羊挣了两万，看病花了三万", "income").slots
    assert slots.income == Amount(20000)
    assert slots.expense == Amount(30000)


def test_a_bare_amount_is_income_only_when_asked_or_said() -> None:
    assert said("三万多").slots.income is None
    assert said("三万多", "income").slots.income == Amount(30000, approximate=True)
    assert said("一年收入三万多").slots.income == Amount(30000, approximate=True)


@pytest.mark.parametrize("text", ["没有收入", "没收入", "没有"])
def test_no_income_is_nothing(text: str) -> None:
    assert said(text, "income").slots.income == Amount(0)


@pytest.mark.parametrize(("text", "size"), [
    ("五口人", 5), ("5个人", 5), ("一家四口", 4), ("我们家九口人", 9), ("家里就我和老伴", 2),
    ("老两口", 2), ("娘俩", 2), ("就我一个人", 1), ("两口人", 2),
])
def test_household_size(text: str, size: int) -> None:
    assert said(text, "size").slots.size == size
    assert said(text).slots.size == size  # said outright, it needs no question


def test_one_person_raising_others_is_no_household_of_one() -> None:
    assert said("孩子他爸走了 我一个人拉扯三个娃", "difficulty").slots.size is None


def test_a_bare_number_is_the_size_only_when_the_size_was_asked() -> None:
    assert said("5", "size").slots.size == 5
    assert said("五", "size").slots.size == 5
    assert said("5").slots.size is None
    reading = said("40", "size")
    assert reading.slots.size is None
    assert reading.problems == ("家庭人口请回复1到30之间的数字，例如：4",)


# ---- who: name, ID number, phone ----

def test_an_id_number_alone_is_taken_without_a_name() -> None:
    slots = said(WANG, "who").slots
    assert slots.id_number == WANG
    assert slots.name is None


def test_a_name_alone_is_taken_when_asked() -> None:
    assert said("王秀英", "who").slots.name == "王秀英"
    assert said("王秀英").slots.name is None  # not asked: two characters may be anything
    assert said("我叫王秀英").slots.name == "王秀英"  # said as a name


@pytest.mark.parametrize("text", [
    f"王秀英 {WANG}", f"{WANG} 王秀英", f"{WANG}王秀英", f"王秀英身份证号{WANG}",
    f"我叫王秀英，身份证{WANG}", f"王秀英 {WANG[:6]} {WANG[6:14]} {WANG[14:]}",
    f"王秀英 {WANG[:4]} {WANG[4:8]} {WANG[8:12]} {WANG[12:16]} {WANG[16:]}",
])
def test_name_and_id_number_in_either_order(text: str) -> None:
    slots = said(text, "who").slots
    assert (slots.name, slots.id_number) == ("王秀英", WANG)


def test_names_with_numerals_are_kept_as_typed() -> None:
    slots = said(f"张三 {WANG} 一年收入三万", "who").slots
    assert slots.name == "张三"
    assert slots.income == Amount(30000)
    assert said("王二妹", "who").slots.name == "王二妹"


@pytest.mark.parametrize("text", ["阿依古丽·买买提", "阿依古丽•买买提", "欧阳秀英", "覃秀"])
def test_minority_compound_and_rare_names(text: str) -> None:
    assert said(text, "who").slots.name == text.replace("•", "·")


def test_a_lower_case_x_is_upper_cased() -> None:
    body = "36242719450204151"
    number = body + ric.calc_check_digit(body + "0")
    assert number.endswith("X")
    assert said(f"任来喜 {number.lower()}", "who").slots.id_number == number


def test_a_wrong_check_digit_is_not_taken_and_said() -> None:
    wrong = WANG[:-1] + ("0" if WANG[-1] != "0" else "1")
    reading = said(f"王秀英 {wrong}", "who")
    assert reading.slots.id_number is None
    assert reading.slots.name == "王秀英"
    assert reading.problems == (
        "身份证号好像不对（校验位或出生日期对不上），请对照身份证再核对一遍。",)


@pytest.mark.parametrize(("digits", "length"), [(WANG[:17], 17), (WANG + "1", 19)])
def test_an_id_number_of_the_wrong_length_is_said(digits: str, length: int) -> None:
    reading = said(f"王秀英 {digits}", "who")
    assert reading.slots.id_number is None
    assert reading.problems == (f"身份证号应该是18位，您发的是{length}位，请核对后再发一次。",)


@pytest.mark.parametrize("text", ["13912345678", "139 1234 5678", "139-1234-5678",
                                  "+86 139 1234 5678", "我的手机是13912345678",
                                  "幺三九幺二三四五六七八"])
def test_phone(text: str) -> None:
    assert said(text, "phone").slots.phone == "13912345678"


def test_a_phone_is_never_part_of_an_id_number() -> None:
    slots = said(f"我电话13912345678，身份证{WANG}").slots
    assert (slots.phone, slots.id_number) == ("13912345678", WANG)
    assert said(WANG, "phone").slots.phone is None


def test_a_short_phone_is_said() -> None:
    reading = said("1391234567", "phone")
    assert reading.slots.phone is None
    assert reading.problems == (
        "手机号应该是1开头的11位数字，请再发一次；不想留可以回复「跳过」。",)


# ---- village, difficulty, risks ----

@pytest.mark.parametrize(("text", "expecting", "village"), [
    ("东沟村", None, "东沟村"), ("我是东沟的", None, "东沟村"), ("东沟", "village", "东沟村"),
    ("东钩村", "village", "东沟村"), ("北领村", None, "北岭村"),
    ("青山镇西坡村四组", "village", "西坡村"),
    ("2", "village", VILLAGES[1]), ("第三个", "village", VILLAGES[2]),
])
def test_village_by_name_forgiving_or_by_number(text: str, expecting: str | None,
                                                village: str) -> None:
    assert said(text, expecting).slots.village == village


def test_a_number_is_a_village_only_when_the_village_was_asked() -> None:
    assert said("2").slots.village is None
    assert said("9", "village").slots.village is None  # no ninth village


@pytest.mark.parametrize(("text", "risks"), [
    ("老伴脑梗住院了", ("illness",)), ("孩子上大学学费交不起", ("schooling",)),
    ("今年旱了庄稼绝收", ("disaster",)), ("羊死了一半", ("industry",)),
    ("老伴去世了", ("family",)), ("儿子没了 儿媳改嫁了", ("family",)),
    ("在外面打工的厂子倒闭了", ("employment",)), ("房子裂了好几道缝下雨漏", ("housing",)),
    ("吃水要走好远", ("water",)), ("我腿摔断了干不了活", ("accident",)),
    ("我是二级肢体残疾", ("disability",)),
])
def test_risk_types_from_the_farmers_words(text: str, risks: tuple[str, ...]) -> None:
    reading = said(text, "difficulty")
    assert reading.intent is Intent.ANSWER
    assert reading.slots.risks == risks
    assert reading.slots.difficulty == text


def test_working_away_is_no_risk_by_itself() -> None:
    slots = said("打工挣了两万多", "income").slots
    assert slots.risks == ()
    assert slots.difficulty is None


@pytest.mark.parametrize(("text", "risks"), [
    ("1 3", ("illness", "disability")), ("1、3", ("illness", "disability")),
    ("1和2", ("illness", "schooling")), ("13", ("illness", "disability")), ("因灾", ("disaster",)),
])
def test_risks_by_number_from_the_list(text: str, risks: tuple[str, ...]) -> None:
    assert said(text, "risks").slots.risks == risks


def test_a_difficulty_without_a_risk_word_is_taken_when_asked() -> None:
    assert said("一言难尽", "difficulty").slots.difficulty == "一言难尽"
    assert said("一言难尽").slots.difficulty is None


def test_everything_at_once() -> None:
    reading = said(f"我叫王秀英 {WANG} 家里五口人 老伴住院花了八万多")
    assert reading.intent is Intent.ANSWER
    assert reading.slots.filled() == {
        "name": "王秀英", "id_number": WANG, "size": 5, "difficulty": "老伴住院花了八万多",
        "risks": ("illness",), "expense": Amount(80000, approximate=True)}


def test_several_slots_for_a_new_household() -> None:
    slots = said("东沟村 两口人 老伴住院 收入八千", "village").slots
    assert (slots.village, slots.size, slots.income) == ("东沟村", 2, Amount(8000))
    assert slots.risks == ("illness",)


# ---- intents ----

@pytest.mark.parametrize(("text", "expecting", "intent"), [
    ("我要申请帮扶", None, Intent.APPLY), ("想申请", None, Intent.APPLY),
    ("申请救助", None, Intent.APPLY), ("怎么申请", None, Intent.APPLY),
    ("我家困难", None, Intent.APPLY), ("我家遇到难处了", None, Intent.APPLY),
    ("申请", None, Intent.APPLY), ("我想报名", None, Intent.APPLY),
    ("帮我妈申请一下", None, Intent.APPLY),
    ("我家的申请到哪一步了", None, Intent.PROGRESS), ("办得怎么样了", None, Intent.PROGRESS),
    ("查一下", None, Intent.PROGRESS), ("有结果了吗", None, Intent.PROGRESS),
    ("申请了半个月了怎么还没消息", "income", Intent.PROGRESS),
    ("撤回申请", None, Intent.WITHDRAW), ("不想申请了", None, Intent.WITHDRAW),
    ("不想申请了", "income", Intent.CANCEL), ("取消", "who", Intent.CANCEL),
    ("不想填了", "income", Intent.CANCEL),
    ("转人工", None, Intent.HUMAN), ("找干部", "who", Intent.HUMAN),
    ("我要跟人说话", None, Intent.HUMAN), ("打电话给我", None, Intent.HUMAN),
    ("确认授权", None, Intent.CONSENT), ("帮助", None, Intent.HELP),
    ("主菜单", "income", Intent.HELP),
    ("你好", None, Intent.GREETING), ("在吗", "who", Intent.GREETING),
    ("谢谢", None, Intent.GREETING),
    ("对", "confirm", Intent.AGREE), ("是的", "withdraw", Intent.AGREE),
    ("没问题", "confirm", Intent.AGREE), ("提交", "confirm", Intent.AGREE),
    ("同意", "confirm", Intent.AGREE), ("对 撤回", "withdraw", Intent.AGREE),
    ("不对", "confirm", Intent.REFUSE), ("错了", "confirm", Intent.REFUSE),
    ("不撤了", "withdraw", Intent.REFUSE),
    ("跳过", "phone", Intent.SKIP), ("没有", "phone", Intent.SKIP),
    ("不留电话", "phone", Intent.SKIP),
    ("asdfgh", None, Intent.UNKNOWN), ("哦", None, Intent.UNKNOWN),
    ("asdfgh", "who", Intent.ANSWER),  # nothing readable, but an answer to what was asked
])
def test_intents(text: str, expecting: str | None, intent: Intent) -> None:
    assert said(text, expecting).intent is intent


@pytest.mark.parametrize(("text", "grounds"), [
    ("申请复核", ""), ("复核", ""), ("为什么不给我办", ""), ("凭什么不给", ""),
    ("我不服，我家老伴瘫痪在床", "我家老伴瘫痪在床"),
    ("为啥不给我批，我家确实困难", "我家确实困难"),
])
def test_reexamination_with_its_grounds_as_typed(text: str, grounds: str) -> None:
    reading = said(text)
    assert (reading.intent, reading.grounds) == (Intent.REEXAMINE, grounds)


def test_asking_how_to_object_is_a_question_not_a_demand() -> None:
    reading = said("复核怎么弄")
    assert (reading.intent, reading.faq) == (Intent.QUESTION, "review")


@pytest.mark.parametrize(("text", "expecting", "edit", "slot", "value"), [
    ("收入改成两万", "confirm", "income", "income", Amount(20000)),
    ("不对，收入是两万五", "confirm", "income", "income", Amount(25000)),
    ("电话改成13912345678", "confirm", "phone", "phone", "13912345678"),
    ("人口写错了，是4口人", "confirm", "size", "size", 4),
    ("是三口人 不是四口", "confirm", "size", "size", 3),
    ("村子填错了，应该是西坡村", "confirm", "village", "village", "西坡村"),
    ("名字写错了，是王秀英", "confirm", "who", "name", "王秀英"),
    ("困难改一下，老伴还得了糖尿病", "confirm", "difficulty", "difficulty", "老伴还得了糖尿病"),
])
def test_an_edit_names_its_slot_and_carries_the_value(
        text: str, expecting: str, edit: str, slot: str, value: object) -> None:
    reading = said(text, expecting)
    assert (reading.intent, reading.edit) == (Intent.EDIT, edit)
    assert getattr(reading.slots, slot) == value


@pytest.mark.parametrize(("text", "edit"),
                         [("名字写错了", "who"), ("修改", None), ("改电话", "phone")])
def test_an_edit_without_a_value(text: str, edit: str | None) -> None:
    reading = said(text, "confirm")
    assert (reading.intent, reading.edit) == (Intent.EDIT, edit)
    assert reading.slots.filled() == {}


# ---- questions in the middle, answers with question words ----

@pytest.mark.parametrize("expecting", [None, "confirm", "income", "phone"])
def test_a_question_mid_application_is_a_question(expecting: str | None) -> None:
    reading = said("我家老伴住院了能申请吗", expecting)
    assert (reading.intent, reading.faq) == (Intent.QUESTION, "who_may_apply")
    assert reading.slots.risks == ("illness",)  # kept: the dialogue may use them


@pytest.mark.parametrize(("text", "expecting", "slot", "value"), [
    ("收入不多，也就两万多吧", "income", "income", Amount(20000, approximate=True)),
    ("一年多少？大概三万吧", "income", "income", Amount(30000, approximate=True)),
    ("两万左右吧，不知道算不算多", "income", "income", Amount(20000, approximate=True)),
    ("老伴住院了不知道能不能报销", "difficulty", "risks", ("illness",)),
])
def test_an_answer_with_a_question_word_is_an_answer(
        text: str, expecting: str, slot: str, value: object) -> None:
    reading = said(text, expecting)
    assert reading.intent is Intent.ANSWER
    assert getattr(reading.slots, slot) == value


def test_at_the_difficulty_only_a_question_asked_as_one_is_a_question() -> None:
    assert said("不知道怎么说", "difficulty").intent is Intent.ANSWER
    reading = said("多久能办完", "difficulty")
    assert (reading.intent, reading.faq) == (Intent.QUESTION, "how_long")


def test_a_question_the_faq_does_not_know_is_still_a_question() -> None:
    reading = said("你们办公室在哪里？", "income")
    assert (reading.intent, reading.faq) == (Intent.QUESTION, None)


# ---- FAQ ----

@pytest.mark.parametrize(("text", "key"), [
    ("我们家这种情况可以申请吗", "who_may_apply"), ("今年监测线是多少", "income_line"),
    ("要多久能批下来", "how_long"), ("需要准备哪些材料", "what_to_send"),
    ("监测对象是什么意思", "monitored"), ("对公示结果有异议怎么办", "review"),
    ("有问题联系哪个干部", "whom_to_call"), ("12317是干什么的", "hotline"), ("12317", "hotline"),
    ("申请要钱吗", "cost"), ("收不收费", "cost"), ("我的信息会公开吗", "privacy"),
    ("纳入以后有什么帮扶", "after_enrolled"), ("什么时候能退出监测", "elimination"),
])
def test_policy_questions_find_their_answer(text: str, key: str) -> None:
    reading = said(text)
    assert (reading.intent, reading.faq) == (Intent.QUESTION, key)


def test_the_faq_has_the_agreed_entries_each_short_enough_for_a_phone() -> None:
    assert {e.key for e in FAQ} == {
        "who_may_apply", "income_line", "how_long", "what_to_send", "monitored", "review",
        "whom_to_call", "hotline", "cost", "privacy", "after_enrolled", "elimination"}
    levels = CONFIG.levels
    for entry in FAQ:
        answer = entry.answer.format(
            hotline=CONFIG.notice.hotline, income_line=99999, total_days="15天",
            county=levels["county"], township=levels["township"], village=levels["village"])
        assert len(answer) <= 150, entry.key
        assert match(entry.questions[0], FAQ) is not None


@pytest.mark.parametrize("text", ["我叫王秀英", "家里五口人", "东沟村", "好的", "13800138000",
                                  "老伴住院了"])
def test_answers_are_no_questions(text: str) -> None:
    assert said(text).intent is not Intent.QUESTION


# ---- properties ----

_NOISE = st.text(alphabet=st.sampled_from("我家老伴住院花了一万多钱东沟村的，。 ！？abc王秀英"),
                 max_size=40)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(before=_NOISE, after=_NOISE, seed=st.integers(0, 2**32))
def test_any_valid_id_number_in_noise_is_found_exactly(before: str, after: str,
                                                        seed: int) -> None:
    number = id_number(random.Random(seed))
    reading = said(f"{before}{number}{after}")
    assert reading.slots.id_number == number
    assert reading.problems == ()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=500),
       expecting=st.sampled_from([None, "who", "village", "size", "difficulty", "risks",
                                  "income", "phone", "confirm", "withdraw"]))
def test_read_never_raises(text: str, expecting: str | None) -> None:
    reading = said(text, expecting)
    assert isinstance(reading.intent, Intent)
    assert reading.slots.village in (None, *VILLAGES)
    assert set(reading.slots.risks) <= set(CONFIG.risk_types)


@settings(max_examples=300)
@given(value=st.one_of(st.integers(1, 99_999), st.integers(1, 999).map(lambda k: k * 1000)),
       said_as=st.sampled_from(["{cn}", "{cn}元", "{n}块", "{n}元", "收入{cn}", "一年{cn}块钱"]))
def test_any_amount_said_in_numerals_or_digits_reads_back(value: int, said_as: str) -> None:
    text = said_as.format(cn=cn2an.an2cn(value), n=value)
    assert said(text, "income").slots.income == Amount(value)


@settings(max_examples=200)
@given(before=_NOISE, after=_NOISE, rest=st.integers(0, 10**8 - 1),
       prefix=st.sampled_from(["13", "15", "18", "19", "17"]),
       spaced=st.booleans())
def test_any_mobile_in_noise_is_found_exactly(before: str, after: str, rest: int, prefix: str,
                                              spaced: bool) -> None:
    number = f"{prefix}{rest + 1:09d}"[:11]
    shown = f"{number[:3]} {number[3:7]} {number[7:]}" if spaced else number
    assert said(f"{before} {shown} {after}", "phone").slots.phone == number


@pytest.mark.parametrize(("text", "intent"), [
    ("转人公", Intent.HUMAN), ("查近度", Intent.PROGRESS), ("我要申情", Intent.APPLY),
    ("确认受权", Intent.CONSENT), ("申请复合", Intent.REEXAMINE),
])
def test_a_command_with_one_character_wrong(text: str, intent: Intent) -> None:
    assert said(text).intent is intent


# ---- Classes of phrasing: each with examples of its own, none from the corpora ----

@pytest.mark.parametrize("text", ["政策", "政策说明", "有什么政策", "讲讲政策", "防返贫政策有哪些"])
def test_policy_alone_asks_for_the_overview(text: str) -> None:
    assert (said(text).intent, said(text).faq) == (Intent.QUESTION, None)


@pytest.mark.parametrize(("text", "name"), [
    ("吴福来 522631196510286378", "吴福来"), ("张有来 522631196510286378", "张有来"),
    ("我叫杨天福 522631196510286378", "杨天福"),
    ("522631196510286378 陈来 家里三口人", "陈来"),
])
def test_a_name_beside_the_id_number_keeps_its_last_character(text: str, name: str) -> None:
    assert said(text, "who").slots.name == name


@pytest.mark.parametrize("text", ["一万五", "三千多", "两万来块", "五千"])
def test_a_numeral_is_never_a_name(text: str) -> None:
    assert said(text, "who").slots.name is None


def test_a_name_after_the_village_it_comes_from() -> None:
    reading = said("我是西坡村的郑桂芳")
    assert (reading.slots.name, reading.slots.village) == ("郑桂芳", "西坡村")


@pytest.mark.parametrize(("text", "key"), [
    ("身份证号给你们安全吗", "privacy"), ("填的东西会贴出来吗", "privacy"),
    ("批了能享受啥待遇", "after_enrolled"), ("镇上谁管这个", "whom_to_call"),
    ("监测户就是贫困户吗", "monitored"),
])
def test_more_ways_of_asking_the_faq(text: str, key: str) -> None:
    assert (said(text, "who").intent, said(text, "who").faq) == (Intent.QUESTION, key)


@pytest.mark.parametrize("text", ["你好呀", "在不在", "有人吗", "谢谢你们", "喂 您好",
                                  "谢谢书记🙏", "麻烦你们了", "打扰一下"])
def test_greetings_and_thanks_to_anyone(text: str) -> None:
    assert said(text).intent is Intent.GREETING


def test_punctuation_alone_greets_nobody() -> None:
    assert said("？？。").intent is not Intent.GREETING


@pytest.mark.parametrize("text", ["你都能做哪些事", "这个咋使用", "看不懂", "可以办什么"])
def test_asking_what_the_bot_does_is_help(text: str) -> None:
    assert said(text).intent is Intent.HELP


@pytest.mark.parametrize("text", ["不对不对", "不是这样", "错了", "有问题", "不太对", "我再想想"])
def test_a_no_at_the_summary_without_a_slot_refuses(text: str) -> None:
    assert said(text, "confirm").intent is Intent.REFUSE


@pytest.mark.parametrize("text", ["没有手机", "不方便留", "没得电话", "木有", "不想给号码",
                                  "没有手机号 有事找村里", "算了"])
def test_no_phone_skips_it(text: str) -> None:
    assert said(text, "phone").intent is Intent.SKIP


@pytest.mark.parametrize(("text", "intent"), [
    ("为啥没评上", Intent.REEXAMINE), ("凭啥没有我家", Intent.REEXAMINE),
    ("我要申诉", Intent.REEXAMINE), ("结果有问题 我家确实困难", Intent.REEXAMINE),
    ("怎么申请复核", Intent.QUESTION), ("还能申诉吗", Intent.QUESTION),
])
def test_a_demand_for_review_or_a_question_about_it(text: str, intent: Intent) -> None:
    reading = said(text)
    assert reading.intent is intent
    if intent is Intent.QUESTION:
        assert reading.faq == "review"


@pytest.mark.parametrize(("text", "amount"), [
    ("打工一个月3000，干了8个月", Amount(24000)),
    ("在工地上班干了10个月 每个月四千", Amount(40000)),
    ("出去打了半年工 一个月两千五", Amount(15000)),
    ("一个月3000", Amount(3000, monthly=True)),  # no months said: monthly, as said
])
def test_a_monthly_pay_over_the_months_worked_is_the_years(text: str, amount: Amount) -> None:
    assert said(text, "income").slots.income == amount


@pytest.mark.parametrize(("text", "amount"), [
    # a range is kept as its lower end, approximate (Amount has no range)
    ("七八千", Amount(7000, approximate=True)), ("一年三四万", Amount(30000, approximate=True)),
    ("千把块", Amount(1000, approximate=True)), ("一万五不到", Amount(15000, approximate=True)),
    ("2万零8百", Amount(20800)), ("打零工一年8千", Amount(8000)),
])
def test_amounts_said_loosely(text: str, amount: Amount) -> None:
    assert said(text, "income").slots.income == amount


@pytest.mark.parametrize("text", ["我要改一下", "让干部来一趟", "帮我查一下"])
def test_one_as_an_article_is_no_money(text: str) -> None:
    reading = said(text, "confirm")
    assert (reading.slots.income, reading.slots.expense) == (None, None)


@pytest.mark.parametrize(("text", "phone"), [
    ("幺五九零三四五六七八九", "15903456789"), ("我的手机一八六二二二三三四四五", "18622233445"),
])
def test_a_phone_said_in_numerals(text: str, phone: str) -> None:
    assert said(text, "phone").slots.phone == phone


@pytest.mark.parametrize(("text", "risks"), [
    ("老伴骑车摔了 在医院住着", ("accident",)),
    ("地震把房子震塌了", ("disaster", "housing")),
    ("发洪水 庄稼全淹了", ("disaster",)),
    ("羊得了瘟病死了十几只", ("industry",)),
    ("家里没个劳力", ("labour",)),
    ("井里的水是浑的", ("water",)),
])
def test_risks_by_the_cause_not_its_consequence(text: str, risks: tuple[str, ...]) -> None:
    assert said(text, "difficulty").slots.risks == risks


@pytest.mark.parametrize(("text", "intent"), [
    ("申情", Intent.APPLY), ("进渡", Intent.PROGRESS), ("我要申请帮付", Intent.APPLY),
    ("怎摸申请", Intent.APPLY), ("撒回申请", Intent.WITHDRAW),
])
def test_a_command_mistyped_by_its_sound(text: str, intent: Intent) -> None:
    assert said(text).intent is intent


@pytest.mark.parametrize("text", ["今天下雨了吗", "你吃饭了没"])
def test_small_talk_is_no_policy_question(text: str) -> None:
    assert said(text).intent is not Intent.QUESTION


@pytest.mark.parametrize(("text", "slot"), [
    ("手机换成13912345678", "phone"), ("风险再加一个因残", "risks"),
    ("困难我要重新说", "difficulty"),
])
def test_edits_said_as_changing_or_adding(text: str, slot: str) -> None:
    reading = said(text, "confirm")
    assert (reading.intent, reading.edit) == (Intent.EDIT, slot)


@pytest.mark.parametrize(("text", "intent"), [
    ("我要找个人问问", Intent.HUMAN), ("让人给我打个电话", Intent.HUMAN),
    ("申请的那个现在什么情况", Intent.PROGRESS), ("咋还没结果", Intent.PROGRESS),
    ("重新来吧 刚才的不算", Intent.CANCEL),
])
def test_more_ways_to_ask_for_a_person_progress_or_a_fresh_start(text: str,
                                                                  intent: Intent) -> None:
    assert said(text, "income").intent is intent


@pytest.mark.parametrize(("text", "expecting", "intent"), [
    ("怎么个申请法", None, Intent.APPLY), ("想办个帮扶", None, Intent.APPLY),
    ("俺家申请的怎么样了", None, Intent.PROGRESS), ("到底办没办", None, Intent.PROGRESS),
    ("凭啥他家都能纳入", None, Intent.REEXAMINE), ("谢啦", None, Intent.GREETING),
    ("你是机器人吧", None, Intent.HELP), ("全对 没毛病", "confirm", Intent.AGREE),
    ("俺没有电话", "phone", Intent.SKIP),
])
def test_dialect_and_spoken_forms_of_the_intents(text: str, expecting: str | None,
                                                 intent: Intent) -> None:
    assert said(text, expecting).intent is intent


def test_no_income_said_as_not_any() -> None:
    assert said("什么收入都没有", "income").slots.income == Amount(0)


def test_a_period_followed_by_its_own_figure_is_that_figures() -> None:
    assert said("种地一年八千 打工一个月两千", "income").slots.income == Amount(8000 + 24000)


def test_a_name_typed_with_a_space_and_a_size_sent_for_the_name() -> None:
    assert said("李 桂兰", "who").slots.name == "李桂兰"
    assert said("五口人", "who").slots.name is None


def test_a_phone_read_out_in_groups() -> None:
    assert said("手机是一八六 二二二三 三四四五", "phone").slots.phone == "18622233445"


@pytest.mark.parametrize("expecting", ["size", "income", "confirm"])
def test_a_question_mid_application_is_about_it_whatever_its_words(expecting: str) -> None:
    reading = said("上大学的孙子算不算", expecting)
    assert (reading.intent, reading.faq) == (Intent.QUESTION, None)


def test_per_head_is_no_household_size() -> None:
    assert said("监测线是一个人一年多少钱").slots.size is None
    assert said("家里4个人 每人一年三千", "size").slots.size == 4


def test_a_couple_told_among_the_difficulty_is_not_the_household() -> None:
    assert said("厂子停工了 两口子都没活干", "difficulty").slots.size is None
    assert said("只有我们老两口 老伴腿脚不便", "difficulty").slots.size == 2
    assert said("两口子", "size").slots.size == 2


# ---- classes of phrasing (each with examples of its own, not the corpus's) ----

@pytest.mark.parametrize("text", ["俺同意授权", "授权给村委会", "好的 授权吧", "愿意授权",
                                  "同意核查我家的信息", "是我叫书记替我家申报的",
                                  "我同意村里帮俺家报上去"])
def test_consent_said_many_ways(text: str) -> None:
    assert said(text).intent is Intent.CONSENT


def test_a_question_about_the_consent_is_no_consent() -> None:
    assert said("授权是干什么用的？").intent is not Intent.CONSENT
    assert said("确认", "confirm").intent is Intent.AGREE  # at the summary: a yes


@pytest.mark.parametrize("text", ["手机号不愿意留", "电话先不给了", "这个就跳过吧",
                                  "号码还是不留了 有事找村里", "不方便给电话"])
def test_declining_the_phone_in_a_sentence_skips_it(text: str) -> None:
    assert said(text, "phone").intent is Intent.SKIP


def test_a_phone_given_while_declining_something_else_is_the_phone() -> None:
    reading = said("不留座机 手机13912345678", "phone")
    assert (reading.intent, reading.slots.phone) == (Intent.ANSWER, "13912345678")


@pytest.mark.parametrize(("text", "expecting", "intent"), [
    ("不整了", "village", Intent.CANCEL),
    ("别填了 太难弄", "income", Intent.CANCEL),
    ("甭写了", "who", Intent.CANCEL),
    ("取消前几天报的那个申请", None, Intent.WITHDRAW),
    ("可不可以撤回我家的申请", None, Intent.WITHDRAW),
    ("能帮我撤掉吗", None, Intent.WITHDRAW),
    ("撤回以后还能再申请吗", None, Intent.QUESTION),
    ("嗯 不申请了", "withdraw", Intent.AGREE),
    ("还是甭撤了", "withdraw", Intent.REFUSE),
    ("俺不同意", "confirm", Intent.REFUSE),
    ("没得问题 交吧", "confirm", Intent.AGREE),
])
def test_giving_up_and_answering_a_withdrawal(text: str, expecting: str | None,
                                              intent: Intent) -> None:
    assert said(text, expecting).intent is intent


@pytest.mark.parametrize(("text", "intent"), [
    ("咱家太困难了 求政府帮一把", Intent.APPLY),
    ("去哪儿申请", Intent.APPLY),
    ("申诉咋个申请", Intent.QUESTION),
    ("这玩意咋用", Intent.HELP),
    ("你们这个号是做什么的", Intent.HELP),
    ("你还能办点啥", Intent.HELP),
    ("是什么功能", Intent.HELP),
    ("想跟村长通个话", Intent.HUMAN),
    ("我不认可这个决定", Intent.REEXAMINE),
    ("要求复合", Intent.REEXAMINE),
    ("多谢领导们", Intent.GREETING),
])
def test_intents_said_another_way(text: str, intent: Intent) -> None:
    assert said(text).intent is intent


def test_the_risk_named_at_the_list_is_the_risk_not_a_faq_question() -> None:
    reading = said("饮水不安全", "risks")
    assert (reading.intent, reading.slots.risks) == (Intent.ANSWER, ("water",))
    assert said("其他原因", "risks").slots.risks == ("other",)


@pytest.mark.parametrize(("text", "risks"), [
    ("今年遭了冰雹 苞谷全没收成了 绝收", ("disaster",)),
    ("冰雹把大棚打烂了 投的本钱全赔进去了", ("disaster", "industry")),
    ("山洪把房子冲塌了一角", ("disaster",)),
    ("山洪把房子冲塌了 现在成了危房住不了", ("disaster", "housing")),
    ("包工头卷钱跑了 一年工钱没给", ("employment",)),
    ("媳妇跑了 留下两个娃", ("family",)),
    ("家里的猪 去年闹猪瘟死光了", ("industry",)),
])
def test_the_cause_is_the_risk_not_its_consequence(text: str, risks: tuple[str, ...]) -> None:
    assert said(text, "difficulty").slots.risks == risks


def test_the_dog_that_ran_off_is_no_family_loss() -> None:
    assert said("我家狗跑了").slots.risks == ()


@pytest.mark.parametrize(("text", "amount"), [
    ("三万挂零", Amount(30000, approximate=True)),
    ("也就八千", Amount(8000)),  # little, said exactly
    ("也就八千来块", Amount(8000, approximate=True)),
])
def test_how_rough_an_income_is(text: str, amount: Amount) -> None:
    assert said(text, "income").slots.income == amount


def test_wages_withheld_are_no_income_of_nothing() -> None:
    assert said("老板欠着工资 一分钱没给", "difficulty").slots.income is None


def test_a_form_typed_with_labels() -> None:
    reading = said(f"姓名：王秀英 身份证：{WANG} 家庭人口：4 收入：一万八")
    slots = reading.slots
    assert (slots.name, slots.id_number, slots.size, slots.income) == (
        "王秀英", WANG, 4, Amount(18000))


def test_a_progress_question_names_whose_application() -> None:
    village = VILLAGES[0]
    reading = said(f"{village}李春生家的申请批了没")
    assert (reading.intent, reading.slots.name, reading.slots.village) == (
        Intent.PROGRESS, "李春生", village)


def test_the_value_after_saying_it_is_wrong_is_the_edit() -> None:
    reading = said("电话错了 是13912345678", "confirm")
    assert (reading.intent, reading.edit, reading.slots.phone) == (
        Intent.EDIT, "phone", "13912345678")


def test_a_disease_in_a_question_about_papers_is_no_risk() -> None:
    reading = said("要不要带诊断书")
    assert reading.intent is Intent.QUESTION and reading.slots.risks == ()
    assert said("老伴瘫了 要交啥材料").slots.risks  # told before the question: the household's


def test_per_head_after_the_sum_is_no_size() -> None:
    assert said("低保多少钱一个人").slots.size is None


@pytest.mark.parametrize(("text", "key"), [
    ("审批要等好久", "how_long"),
    ("评上之后每年给多少补助", "after_enrolled"),
    ("当上监测户有啥好处", "after_enrolled"),
    ("纳入之后还能退出吗", "elimination"),
    ("要当几年监测户", "elimination"),
    ("我的帮扶责任人是哪位", "whom_to_call"),
    ("办这个要不要交工本费", "cost"),
])
def test_questions_said_another_way_find_their_answer(text: str, key: str) -> None:
    reading = said(text)
    assert (reading.intent, reading.faq) == (Intent.QUESTION, key)


def test_a_fee_asked_about_is_no_expense() -> None:
    reading = said("听说要交三百块手续费 真的假的")
    assert (reading.faq, reading.slots.expense) == ("cost", None)


@pytest.mark.parametrize(("text", "intent"), [
    ("审请", Intent.APPLY), ("神请帮富", Intent.APPLY), ("查询禁度", Intent.PROGRESS),
    ("确认瘦权", Intent.CONSENT), ("转人攻", Intent.HUMAN),
])
def test_a_command_written_with_any_homophone(text: str, intent: Intent) -> None:
    """Characters nobody listed: the sound (pypinyin) says which command they are."""
    assert said(text).intent is intent


@pytest.mark.parametrize("text", ["我不授权", "不同意查询我家的信息", "俺没让干部替俺报"])
def test_consent_words_refused_are_no_consent(text: str) -> None:
    assert said(text).intent is not Intent.CONSENT


def test_a_household_not_in_difficulty_does_not_apply() -> None:
    assert said("我家不困难 就问问").intent is not Intent.APPLY
    assert said("这个补助是干什么用的").intent is not Intent.HELP


def test_stopping_some_work_told_in_the_difficulty_is_no_cancel() -> None:
    assert said("养殖不搞了 腰不行", "difficulty").intent is Intent.ANSWER
    assert said("算了算了 不整了吧", "difficulty").intent is Intent.CANCEL


@pytest.mark.parametrize(("text", "expecting", "key"), [
    ("诊断书要拍了发过来不", "difficulty", "what_to_send"),
    ("我家的病会被公示出来吗 怕人笑话", "difficulty", "privacy"),
])
def test_papers_and_secrets_asked_mid_application(text: str, expecting: str, key: str) -> None:
    reading = said(text, expecting)
    assert (reading.intent, reading.faq, reading.slots.risks) == (Intent.QUESTION, key, ())


def test_papers_told_in_the_difficulty_are_the_difficulty() -> None:
    reading = said("住院花了三万 发票都留着", "difficulty")
    assert (reading.intent, reading.slots.risks) == (Intent.ANSWER, ("illness",))


@pytest.mark.parametrize("text", ["天旱 苞谷全旱死了", "果树冻死了一片"])
def test_crops_that_died_are_no_family_loss(text: str) -> None:
    assert "family" not in said(text, "difficulty").slots.risks


@pytest.mark.parametrize("text", ["老伴病死了", "儿子在河里淹死了"])
def test_a_person_who_died_is_a_family_loss(text: str) -> None:
    assert "family" in said(text, "difficulty").slots.risks


@pytest.mark.parametrize(("text", "intent"), [
    ("生活实在过不下去了 求你们帮一把", Intent.APPLY),
    ("哪儿可以申请救助", Intent.APPLY),
    ("撤回申请行不行", Intent.WITHDRAW),
    ("这个决定我们不接受", Intent.REEXAMINE),
])
def test_more_intents_by_their_class(text: str, intent: Intent) -> None:
    assert said(text).intent is intent
