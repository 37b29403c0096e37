"""Risk types (config.yaml `risk_types`) from the farmer's words, or by number from the list.

Words are matched as substrings: the farmer's difficulty is short and concrete (老伴住院了,
房子漏雨, 羊死了一半), and a keyword table says it more plainly than any model. A word is
listed under one risk only; 打工 alone is not a risk (「打工挣了两万」 is income), losing the
work is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Keywords a farmer uses for each risk type (config.yaml's keys).
RISK_WORDS: dict[str, tuple[str, ...]] = {
    "illness": ("病", "住院", "医院", "手术", "癌", "瘤", "药", "透析", "化疗", "医疗", "看病",
                "治疗", "中风", "脑梗", "心梗", "偏瘫", "白血病", "尿毒症", "做了手术", "开刀",
                "ICU", "重症", "医药费", "瘫痪在床", "卧床", "身体不好", "身体差", "体弱", "吃药",
                "身体不行"),
    "schooling": ("上学", "学费", "读书", "大学", "念书", "学生", "上高中", "高中", "初中",
                  "中专", "大专", "职高", "技校", "生活费", "考上"),
    "disability": ("残疾", "残", "瘫", "失明", "聋", "哑", "截肢", "智障", "精神病", "瞎",
                   "腿脚不便", "残联"),
    "disaster": ("灾", "洪", "涝", "旱", "冰雹", "雹", "地震", "泥石流", "暴雨", "大风", "雪灾",
                 "山体滑坡", "滑坡", "霜冻", "冻死", "淹", "冲毁", "冲垮", "冲塌", "虫害", "病虫",
                 "大水", "发水", "塌方"),
    "accident": ("车祸", "意外", "摔", "受伤", "事故", "烧伤", "工伤", "着火", "失火", "火灾",
                 "被撞", "撞了", "骨折", "溺水", "触电", "砸伤", "烫伤", "腿断", "胳膊断", "翻车",
                 "车翻", "翻沟", "摔断", "压断", "砸断"),
    "industry": ("养殖", "种植", "亏", "赔本", "赔了", "绝收", "收成不好", "减产", "死了一半",
                 "瘟", "卖不出去", "卖不掉", "价格低", "跌价",
                 "赔进去", "本钱", "牛死", "羊死", "猪死", "鸡死", "死了好几头", "牲口",
                 "合作社", "股金", "入股",
                 "血本无归"),
    "employment": ("失业", "没活", "没工作", "找不到活", "找不到工作", "欠薪", "拖欠工资",
                   "工资没发", "下岗", "辞退", "被开除", "厂子倒闭", "工厂倒闭", "停工",
                   "打不了工", "不能打工", "出不去打工", "没地方打工", "裁员", "工地停了",
                   "没挣到钱", "挣不到钱", "没挣着钱", "活不好找", "工钱", "没活干", "务工不稳定",
                   "打工不稳定", "工作不稳定", "活不稳定"),
    "labour": ("劳动力", "干不了活", "没人干活", "干不动", "孤寡", "没有劳力", "缺劳力",
               "丧失劳动能力", "年纪大了", "岁数大了", "只有老人", "一个人带", "劳力",
               "老的老小的小", "老的老,小的小"),
    "housing": ("房子", "危房", "漏雨", "裂", "倒塌", "塌", "住房", "房屋", "屋顶", "墙倒",
                "没地方住", "漏水"),
    "family": ("去世", "离婚", "变故", "过世", "死了", "丧", "走了", "跑了", "离家出走", "坐牢",
               "服刑", "失踪", "改嫁"),
    "water": ("吃水", "饮水", "喝水", "水井", "自来水", "水源", "缺水", "水质", "没水",
              "停水", "水管", "水是浑的", "水浑", "浑水", "水不干净", "水脏", "吃的水", "喝的水"),
    # at the list of risks: none of the named ones (别的原因, 其它情况)
    "other": ("其他", "其它", "别的原因", "别的情况", "别的困难", "以上都不是", "都不沾"),
}
# words that look like a risk's but are not one (打工挣了, 农药钱): checked first and removed
_NOT_RISK = re.compile(r"没毛病|病假|农药|兽药|火车|水费|电费|房租|打工挣|大学生村官|生活费用|"
                       r"没活路|活路")
# 死了 names a family loss unless it is livestock or a crop (「羊死了一半」, 「羊 冬天得病死了」
# are industry)
_LIVESTOCK_DEATH = re.compile(r"(牛|羊|猪|鸡|鸭|鹅|鱼|兔|蜂|牲口|庄稼|苗|玉米|苞谷|麦|稻|谷子|豆|"
                              r"菜|树|果|烟叶|茶)[^,，。]{0,8}?死")
# 跑了 is a family loss only when a person of the family ran (「老板跑了」 is the wages,
# 「鸡跑了」 nothing of the household's)
_NOT_FAMILY_RAN = re.compile(r"(老板|包工头|工头|老总|厂长|牛|羊|猪|鸡|鸭|鹅|狗|牲口)"
                             r"[^,，。 ]{0,3}?跑了")
# a disaster's lost crop or stock is the disaster; the trade is a risk of its own only when
# money was sunk in it (赔本, 亏, 合作社)
_TRADE = re.compile(r"亏|赔|本钱|养殖|种植|合作社|股金|入股|价格|跌价|卖不")
# a house a disaster damaged is the disaster's, unless it is said to be unfit to live in, its
# repair is what the household needs (「修房子要五万」), or it fell down whole (「震塌了」; a
# part of it, 「冲垮了一半」, is the disaster's damage)
_UNFIT = re.compile(r"危房|不能住|住不了|住不成|没法住|不敢住|没地方住|住不下去|修房|重建|翻修|"
                    r"修缮|(房|屋)[^,，。 ]{0,6}(塌|垮|倒)了?"
                    r"(?![^,，。]{0,2}(一半|半边|一角|一点|一部分|半间|一间|一面|个角))")
# what a disease is called, as against being treated (住院, 医药费): the care an accident
# needs is no illness of its own
_DISEASE = re.compile(r"(?<!瘟)病(?!死)|癌|瘤|中风|脑梗|心梗|偏瘫|透析|化疗|尿毒症|吃药|身体")
_HOUSE = re.compile(r"房|屋|墙|住")
# one search per risk for all its words (each word may overlap another risk's: 病虫 and 病)
_PATTERNS = {risk: re.compile("|".join(map(re.escape, words)))
             for risk, words in RISK_WORDS.items()}
# 儿子没了: a death in the family, said softly (「工作没了」 is not one)
_LOST = re.compile(r"(儿子|女儿|闺女|老伴|丈夫|妻子|男人|媳妇|爹|娘|父亲|母亲|孩子|老公|老婆|爸|妈)"
                   r"(也|都|就|已经)?(没了|走了|不在了)")
_CHOICE = re.compile(r"^[\d\s,，、和与及跟.。]+$")
# 选12, 第5个, 我选3和5: the numbers said around
_CHOICE_WORDS = re.compile(r"我选择?|选择?|第|是|个|项|种|条|号|类|吧")


def risks_in(text: str, risk_types: Mapping[str, str]) -> tuple[str, ...]:
    """The risk types a free-text difficulty mentions, in config order; empty when none.
    A risk's label (因病, 因学) counts too."""
    said = _NOT_RISK.sub(" ", text)
    found = {risk for risk, pattern in _PATTERNS.items() if pattern.search(said)}
    if _LOST.search(said):
        found.add("family")
    if "family" in found and _NOT_FAMILY_RAN.search(said) and not _PATTERNS["family"].search(
            _NOT_FAMILY_RAN.sub(" ", said)) and not _LOST.search(said):
        found.discard("family")
    if "family" in found and _LIVESTOCK_DEATH.search(said) and not any(
            w in said for w in ("去世", "过世", "离婚", "变故", "丧")):
        found.discard("family")
        found.add("industry")
    # the cause, not its consequence: an accident's hospital stay and lost work, a flood's
    # house, a dead sow's 瘟病, a burst pipe's 裂 are the accident, the disaster, the trade,
    # the water
    if found & {"accident", "industry"} and not _DISEASE.search(said):
        found.discard("illness")
    if "accident" in found:
        found.discard("labour")
    if "disaster" in found and not _UNFIT.search(said):
        found.discard("housing")  # 房子被泥石流冲垮了: the disaster; 冲成了危房: the house too
    if "disaster" in found and not _TRADE.search(said):
        found.discard("industry")  # 干旱 麦子绝收, 雪灾羊冻死了: the disaster
    if "water" in found and not _HOUSE.search(said):
        found.discard("housing")
    if "family" in found and "一个人带" in said:
        found.discard("labour")  # 离婚了 一个人带三个娃: the family's change
    for key, label in risk_types.items():
        if label and label in said:
            found.add(key)
    return tuple(key for key in risk_types if key in found) if risk_types else tuple(
        key for key in RISK_WORDS if key in found)


def risks_by_number(prepared: str, risk_types: Mapping[str, str]) -> tuple[str, ...] | None:
    """「1 3」, 「1、3」, 「13」 (single digits run together): 1-based into the list shown.
    None when the text is not a list of numbers; an empty tuple when none is in range."""
    prepared = _CHOICE_WORDS.sub("", prepared)
    if not _CHOICE.match(prepared):
        return None
    keys = list(risk_types)
    numbers = [int(n) for n in re.findall(r"\d+", prepared)]
    picked: set[int] = set()
    for n in numbers:
        if 1 <= n <= len(keys):
            picked.add(n)
        else:  # 13 with 12 options: 1 and 3 typed without a space
            picked.update(int(d) for d in str(n) if 1 <= int(d) <= len(keys))
    return tuple(keys[i - 1] for i in sorted(picked))
