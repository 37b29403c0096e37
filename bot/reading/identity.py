"""Who is writing: the ID number, the phone and the name, found anywhere in a message.

They are read first, on the text as typed, and cut out before numbers are read: an ID
number is digits (never an amount or a phone), and names carry numerals (张三, 王二妹).
The ID number's check digit and birth date are checked by the record's own rule
(`approvals.record.identity.normalize_id_number`, python-stdnum underneath).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from approvals.record.errors import Refused
from approvals.record.identity import normalize_id_number
from bot.reading.text import HAN

# 18 characters, as typed or in the groups people space them in (6 8 4, 6 4 4 4)
_ID = re.compile(r"(?<![0-9])[0-9]{6}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{3}[0-9Xx](?![0-9Xx])")
_ID_SPACED = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){16}[ -]?[0-9Xx](?![0-9Xx])")
# a run of digits too long for a phone or an amount: an ID number mistyped
_LONG_RUN = re.compile(r"(?<![0-9])[0-9]{15,20}[Xx]?(?![0-9Xx])")
_PHONE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9](?:[ -]?[0-9]){8})(?![0-9])")
_PHONE_SAID = re.compile(r"(电话|手机|号码|联系方式)[^0-9]{0,6}([0-9][0-9 -]{5,14}[0-9])")

# Family names, for telling a name from any other two or three characters: the commonest
# single ones (about 99% of people) and the compound ones.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧"
    "耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙"
    "鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫"
    "米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅"
    "屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜"
    "羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶"
    "斯元束檀衣信展阴昝智幸奉植衡富尧闭由") - {"哈"}  # 哈哈哈 is laughter
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
                     "宇文", "司徒", "令狐", "夏侯", "端木", "独孤", "南宫", "西门", "呼延", "申屠",
                     "澹台", "轩辕", "万俟", "闻人", "赫连", "拓跋", "完颜", "爱新觉罗")

# 我叫王秀英, 名字是王秀英, 姓名：王秀英
_MARKER = re.compile(r"(?:我叫|我是|俺叫|俺是|名字叫|名字是|姓名是|姓名叫|姓名|名字|本人叫|本人是|"
                     r"本人|"
                     r"申请人是|申请人|户主是|户主叫|户主|叫做|叫)\s*:?\s*")
# after these a name need not start with a known family name (a rare one)
_SURE_MARKER = re.compile(r"我叫|名字叫|名字是|姓名是|姓名叫|叫做|姓名\s*:|名字\s*:")
# the labels around an ID number: 身份证号, 号码是
_LABEL = re.compile(r"(的)?(身份证号码|身份证号|身份证|证件号码|证件号|证号|号码|号)(是|为)?$")
_NAME_RUN = re.compile(rf"[{HAN}]+(?:·[{HAN}]+)*")
# where a name ends when nothing separates it from what follows (我叫王秀英家里五口人)
_AFTER_NAME = set("家今住在是的村身电手男女岁我老啊呀了吧呢嘛哦想要来从现有因申需和跟他她这那"
                  "一二两三四五六七八九十,，")
# a name typed with a space inside it, sent alone: 王 秀英, 欧阳 秀兰
_SPACED_NAME = re.compile(rf"[{HAN}]{{1,2}} [{HAN}]{{1,3}}")
# a place said before the name: 我是南滩村的蒋春兰
# whose application, said with the village (「西坡村郭满仓的申请走到哪了」, 「东沟村王秀英家的」)
_PLACE_THEN_NAME = re.compile(rf"(?:村|庄|屯|寨|组)([{HAN}]{{2,4}}?)(?:家)?的(?:申请|事|情况|材料)")
_PLACE_FIRST = re.compile(rf"[{HAN}]{{1,6}}?(村|庄|屯|寨|组|乡|镇)(的|人)")
# what ends a run that is no name's last character (王秀英的, 李四呀)
_NEVER_LAST = set("家住在是的村身电手男女岁我啊呀了吧呢嘛哦他她这那,，")
# two or three characters that look like a name but are everyday words
NOT_NAMES = frozenset({
    "你好", "您好", "谢谢", "好的", "没有", "同意", "确认", "提交", "可以", "不对", "不是", "是的",
    "对的", "没错", "取消", "修改", "撤回", "帮助", "菜单", "进度", "申请", "跳过", "不用", "不要",
    "老伴", "老公", "老婆", "孩子", "儿子", "女儿", "父亲", "母亲", "妈妈", "爸爸", "爷爷", "奶奶",
    "知道", "明白", "什么", "怎么", "为什么", "多少", "哪里", "谁啊", "在吗", "有人吗", "算了",
    "政策", "人工", "干部", "村里", "家里", "我家", "农民", "困难户", "贫困户", "监测", "低保",
    "王者", "高兴", "方便", "严重", "常年", "金额", "石头", "江湖", "包括", "万一", "全家",
    "安全", "平安", "明天", "明年", "文化", "和我", "向你", "于是", "时候", "都是", "成功",
})


@dataclass
class Identity:
    """What a message says of who is writing, and the text left without it."""

    rest: str
    id_number: str | None = None
    phone: str | None = None
    name: str | None = None
    problems: list[str] = field(default_factory=list)


def _cut(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def find_id_number(text: str, problems: list[str]) -> tuple[str | None, tuple[int, int] | None]:
    """The ID number and where it is; one that looks like an ID number but is not valid is
    a problem said back, and its place is still returned (its digits are no amount)."""
    for m in _ID_SPACED.finditer(text):
        # spaced in any groups (6125 2419 7512 0365 80): taken only when it checks out, as
        # a phone and an amount side by side may look the same
        digits = re.sub(r"[ -]", "", m.group())
        if not re.fullmatch(r"[0-9]{17}[0-9Xx]", digits):
            continue
        try:
            return normalize_id_number(digits), m.span()
        except Refused:
            continue
    for m in _ID.finditer(text):
        try:
            return normalize_id_number(re.sub(r"[ -]", "", m.group())), m.span()
        except Refused:
            problems.append("身份证号好像不对（校验位或出生日期对不上），请对照身份证再核对一遍。")
            return None, m.span()
    run = _LONG_RUN.search(text)
    if run:
        problems.append(f"身份证号应该是18位，您发的是{len(run.group())}位，请核对后再发一次。")
        return None, run.span()
    return None, None


def find_phone(text: str, *, expecting: str | None, problems: list[str]
               ) -> tuple[str | None, tuple[int, int] | None]:
    """A mainland mobile and where it is; digits said as a phone that are not one are a
    problem said back (only where a phone was asked for or named)."""
    m = _PHONE.search(text)
    if m:
        return re.sub(r"[ -]", "", m.group(1)), m.span()
    said = _PHONE_SAID.search(text)
    if said or expecting == "phone":
        digits = re.search(r"[0-9][0-9 -]{5,14}[0-9]", text) if not said else said
        if digits is not None:
            problems.append("手机号应该是1开头的11位数字，请再发一次；不想留可以回复「跳过」。")
    return None, None


# a name sent alone with a rare family name may start with anything but these
_NEVER_FIRST = set("不没别这那你我他她它啥谁哪嗯啊哈好对是要想请在有就还"
                   "零〇一二两三四五六七八九十百几半")  # 三口人 is a size
_RELATIVES = ("老伴", "老公", "老婆", "媳妇", "儿子", "女儿", "孩子", "父亲", "母亲", "爸", "妈",
              "爷爷", "奶奶", "孙子", "孙女", "丈夫", "妻子", "干部", "书记", "村长")
# a place (王家庄) or a title (刘书记) ends like this; a name does not
_NOT_NAME_ENDS = (*"庄村屯镇乡寨堡营组", "书记", "村长", "主任", "干部", "老师", "大夫", "医生",
               "师傅", "同志", "领导")


# what a figure is said with: 一万五, 三千多, 两万来块 are amounts, never names (万 and 千
# are family names only before a given name that is no numeral: 万里, 千红)
_NUMERAL_CHARS = frozenset("零〇幺一二两三四五六七八九十百千万亿半几多来块元左右把")


def numeral(name: str) -> bool:
    """Whether the characters only say a number (「一万五」, 「三千多」)."""
    return all(c in _NUMERAL_CHARS for c in name)


def _plausible(name: str) -> bool:
    """Looks like a person's name: a known family name first (or a minority name with ·),
    not an everyday word, a place (我是王家庄的) or a title (刘书记)."""
    if name in NOT_NAMES or len(name) < 2 or name.endswith(_NOT_NAME_ENDS) or numeral(name):
        return False
    if "·" in name:
        return all(part for part in name.split("·")) and len(name) <= 20
    if name.startswith(COMPOUND_SURNAMES):
        return len(name) <= 5
    return name[0] in SURNAMES and len(name) <= 4


def _name_from(run: str) -> str:
    """The name at the start of a run of characters that may go on (王秀英家里五口人)."""
    if "·" in run:
        return run
    longest = 4 if run.startswith(COMPOUND_SURNAMES) else 3
    # a run no longer than a name ends where the message goes on (a space, the ID number):
    # its last character is the name's (吴福来, 张三来, 李有) unless it is a particle
    cut_at = _AFTER_NAME if len(run) > longest else _NEVER_LAST
    for i, char in enumerate(run[:longest + 1]):
        if i >= 2 and char in cut_at:
            return run[:i]
    return run[:longest] if len(run) > longest + (longest == 3) else run


def find_name(text: str, *, expecting: str | None, id_at: tuple[int, int] | None) -> (
        tuple[str | None, tuple[int, int] | None]):
    """The name: after 我叫 (and the like), beside the ID number, or alone when asked."""
    for m in _MARKER.finditer(text):
        if text[:m.start()].endswith(_RELATIVES):
            continue  # 老伴叫李桂兰: someone else's name
        run = _NAME_RUN.match(text, m.end())
        if run:
            place = _PLACE_FIRST.match(run.group())
            if place and place.end() < len(run.group()):  # 我是南滩村的蒋春兰
                name = _name_from(run.group()[place.end():])
                if _plausible(name):
                    at = run.start() + place.end()
                    return name, (at, at + len(name))
            name = _name_from(run.group())
            if _plausible(name) or (_SURE_MARKER.match(m.group()) and
                                    2 <= len(name) <= 4 and name not in NOT_NAMES):
                return name, (m.start(), run.start() + len(name))
    owner = _PLACE_THEN_NAME.search(text)
    if owner and _plausible(owner.group(1)):
        return owner.group(1), owner.span(1)
    runs = list(_NAME_RUN.finditer(text))
    if id_at is not None:
        # the characters right before the ID number (labels dropped), else right after it
        before = [r for r in runs if r.end() <= id_at[0]
                  and not text[r.end():id_at[0]].strip(" :,，")]
        after = [r for r in runs if r.start() >= id_at[1]
                 and not text[id_at[1]:r.start()].strip(" :,，")]
        for r in before[-1:] + after[:1]:
            bare = _LABEL.sub("", r.group())
            name = _name_from(bare) if bare else ""
            if r in before and len(bare) <= (4 if bare.startswith(COMPOUND_SURNAMES) else 3) \
                    and _plausible(bare):
                name = bare  # 吴福来 522631…: right before the number, the run is all name
            if _plausible(name):
                return name, (r.start(), r.start() + len(name))
    if expecting == "who" or id_at is not None:
        whole = text.strip(" .。!！吧啊呀呢嘛哦")
        if expecting == "who" and _SPACED_NAME.fullmatch(whole) and _plausible(
                joined := whole.replace(" ", "")):
            at = text.index(whole)
            return joined, (at, at + len(whole))  # 王 秀英, sent alone
        for r in runs:
            bare = _LABEL.sub("", r.group())
            name = _name_from(bare) if bare else ""
            if _plausible(name):
                return name, (r.start(), r.start() + len(name))
        whole = text.strip(" .。!！吧啊呀呢嘛哦")
        if expecting == "who" and len(runs) == 1 and runs[0].group().startswith(whole) \
                and 2 <= len(whole) <= 4 and whole not in NOT_NAMES and not numeral(whole) \
                and whole[0] not in _NEVER_FIRST and not _LABEL.search(whole):
            return whole, runs[0].span()
    return None, None


def identity(text: str, *, expecting: str | None) -> Identity:
    """ID number, phone and name of a normalized text, and the text without them."""
    problems: list[str] = []
    id_number, id_at = find_id_number(text, problems)
    rest = _cut(text, *id_at) if id_at else text
    phone, phone_at = find_phone(rest, expecting=expecting, problems=problems)
    if phone_at:
        rest = _cut(rest, *phone_at)
    name, name_at = find_name(rest, expecting=expecting, id_at=id_at if id_number else None)
    if name_at:
        rest = _cut(rest, *name_at)
    return Identity(rest=rest, id_number=id_number, phone=phone, name=name, problems=problems)
