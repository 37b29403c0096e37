"""Reading what a farmer types: forgiving parsers that return a value or a kind Chinese hint.

Each parser takes the raw text and returns the value, or raises `Unclear` whose message is
what the bot says back. Chinese numerals ("三万", "3万", "一万二") go through cn2an.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal

import cn2an

from approvals.record.errors import Refused
from approvals.record.identity import normalize_id_number


class Unclear(Exception):
    """The answer could not be read; `str(err)` asks again, kindly."""


ID_PATTERN = re.compile(r"\d{17}[\dXx]|\d{15,19}[Xx]?")
NAME_PATTERN = re.compile(r"[\u4e00-\u9fff·•]{2,15}")
PHONE_PATTERN = re.compile(r"1[3-9]\d{9}")
NUMBER_PATTERN = re.compile(r"[0-9０-９.．]+[万千百]?[0-9零〇一二两三四五六七八九十百千万亿点.]*"
                            r"|[零〇一二两三四五六七八九十百千万亿点]+")
FILLER = re.compile(
    r"(大概|大约|差不多|左右|一共|总共|全年|一年|收入|块钱|块|元|人民币|多|吧|啊|呀)")
YES = {"是", "对", "对的", "是的", "好", "好的", "嗯", "可以", "行", "确认", "没错", "同意",
       "ok", "OK"}
NO = {"不", "不是", "不对", "错了", "否", "没有", "不同意"}
SKIP = {"跳过", "没有", "无", "不填", "不留", "算了"}


def normalize(text: str) -> str:
    """Full-width digits and letters to half-width, spaces trimmed."""
    return text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}).strip()


@dataclass(frozen=True)
class Identity:
    name: str
    id_number: str


def identity(text: str) -> Identity:
    """Name and ID number in one message, in either order: "张三 11010119900307457X"."""
    text = normalize(text)
    found = ID_PATTERN.search(text)
    name = NAME_PATTERN.search(ID_PATTERN.sub(" ", text))
    if not found:
        if not name:
            raise Unclear("请发送姓名和身份证号，中间空一格，例如：张三 110101199003074578")
        raise Unclear(f"好的，{name.group()}。还需要您的18位身份证号，请和姓名一起再发一次，"
                      f"例如：{name.group()} 110101199003074578")
    if len(found.group()) != 18:
        raise Unclear(f"身份证号应该是18位，您发的是{len(found.group())}位，请核对后再发一次。")
    try:
        id_number = normalize_id_number(found.group())
    except Refused:
        raise Unclear("身份证号好像不对（校验位对不上），请对照身份证再核对一遍，"
                      "连同姓名重新发送。") from None
    if not name:
        raise Unclear("请在身份证号前面加上姓名，例如：张三 " + id_number)
    return Identity(name.group().replace("•", "·"), id_number)


def amount(text: str) -> Decimal:
    """Yuan from "三万", "3万", "30000元", "大概两万五左右", "1.5万"."""
    cleaned = FILLER.sub("", normalize(text).replace(",", "").replace("，", ""))
    found = NUMBER_PATTERN.search(cleaned)
    if not found:
        raise Unclear("没看懂金额。请直接回复数字，例如：30000 或 三万。")
    try:
        value = Decimal(str(cn2an.cn2an(found.group().replace("．", "."), "smart")))
    except ValueError:
        raise Unclear("没看懂金额。请直接回复数字，例如：30000 或 三万。") from None
    if value < 0 or value > 10_000_000:
        raise Unclear("这个金额好像不太对，请再核对一下（单位：元）。")
    return value.quantize(Decimal("1"))


def count(text: str, *, low: int = 1, high: int = 30) -> int:
    """A small number: "5", "五口", "5口人"."""
    cleaned = normalize(text)
    found = NUMBER_PATTERN.search(cleaned)
    try:
        value = int(cn2an.cn2an(found.group(), "smart")) if found else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise Unclear(f"请回复一个{low}到{high}之间的数字，例如：4")
    return value


def phone(text: str) -> str | None:
    """A mainland mobile number, or None when the farmer skips it."""
    cleaned = re.sub(r"[\s-]", "", normalize(text))
    if cleaned in SKIP:
        return None
    found = PHONE_PATTERN.search(cleaned)
    if not found:
        raise Unclear("手机号应该是1开头的11位数字，请再发一次；不想留可以回复「跳过」。")
    return found.group()


def yes_no(text: str) -> bool | None:
    cleaned = normalize(text).rstrip("。！!.")
    if cleaned in YES:
        return True
    if cleaned in NO:
        return False
    return None


def choose(text: str, options: list[str]) -> int:
    """An option by its number in the list shown, or by (part of) its name, fuzzily."""
    cleaned = normalize(text)
    if cleaned.isdigit() or re.fullmatch(r"[一二三四五六七八九十]+", cleaned):
        index = int(cn2an.cn2an(cleaned, "smart")) - 1
        if 0 <= index < len(options):
            return index
        raise Unclear(f"请回复1到{len(options)}之间的序号。")
    hits = [i for i, option in enumerate(options)
            if cleaned and (cleaned in option or option in cleaned)]
    if len(hits) == 1:
        return hits[0]
    close = difflib.get_close_matches(cleaned, options, n=2, cutoff=0.5)
    if len(close) == 1 or (close and not hits):
        return options.index(close[0])
    raise Unclear("没找到对应的选项，请回复列表前面的序号。")


# Keywords a farmer uses for each risk type (config.yaml's keys), checked in this order.
RISK_WORDS: dict[str, tuple[str, ...]] = {
    "illness": ("病", "住院", "医院", "手术", "癌", "瘤", "药", "透析", "化疗", "医疗"),
    "schooling": ("上学", "学费", "读书", "大学", "念书", "学生", "上高中"),
    "disability": ("残疾", "残", "瘫", "失明", "聋", "哑"),
    "disaster": ("灾", "洪", "涝", "旱", "冰雹", "雹", "地震", "泥石流", "暴雨", "大风", "雪"),
    "accident": ("车祸", "意外", "摔", "受伤", "事故", "烧伤", "工伤", "着火", "失火", "火灾"),
    "industry": ("养殖", "种植", "亏", "赔", "牛", "羊", "猪", "鸡", "庄稼", "收成", "绝收"),
    "employment": ("打工", "失业", "没活", "工资", "没工作", "找不到活", "欠薪", "务工"),
    "labour": ("劳动力", "干不了活", "没人干活", "年纪大了干不动", "孤寡"),
    "housing": ("房子", "危房", "漏雨", "裂", "倒塌", "塌", "住房"),
    "family": ("去世", "离婚", "变故", "过世", "走了", "丧"),
    "water": ("吃水", "饮水", "喝水", "水井", "自来水", "水源", "缺水", "水质"),
}


def risk_types(text: str) -> list[str]:
    """The risk types a free-text difficulty mentions, in config order; empty when none."""
    found = [risk for risk, words in RISK_WORDS.items() if any(w in text for w in words)]
    return found
