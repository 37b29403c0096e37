"""What the bot says that is not a question of the application: welcome, help, policy,
the hint for anything not understood, and the consent to the use of personal data.

The administrative levels (县/乡镇/村, or 旗/苏木/嘎查), the stages and the hotline are
config.yaml's, so each text is a function of the config it is said under."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from approvals.procedure.callbacks import Promise
from approvals.record.calendar import LOCAL, last_day
from approvals.record.definitions import Level
from approvals.record.models import CaseKind
from notifications import wording as notifications_wording
from notifications.wording import Local

if TYPE_CHECKING:
    from fangfan.config import Config

# The consent's paper form, by the name the field uses (the farmer signs it, or ticks it here)
CONSENT_FORM = "《监测对象申请及承诺授权查询书》"


def _up(config: Config) -> str:
    """村、乡镇、县: the levels a case passes, from the village up."""
    return "、".join(config.levels[level] for level in (Level.VILLAGE, Level.TOWNSHIP,
                                                         Level.COUNTY))


def welcome(config: Config) -> str:
    return ("您好，这里是防返贫监测帮扶服务号。\n"
            "家里遇到生病、受灾、意外、失业等困难，收入明显减少或开支突然增大，可以在这里申请，"
            f"{_up(config)}会依次核实办理，结果会通过这里告诉您。\n"
            "回复「申请」开始申请，回复「进度」查询办到哪一步，回复「帮助」查看全部功能。")


def help_text(config: Config) -> str:
    return ("可以回复这些字：\n"
            "申请 — 开始申请（可以随时发照片，如病历、票据、受灾现场）\n"
            "进度 — 查询申请办到哪一步\n"
            "修改 — 修改正在填写的内容\n"
            "取消 — 放弃正在填写的申请\n"
            "撤回 — 撤回已提交、还没开始民主评议的申请\n"
            "申请复核 — 对不予纳入的结果不服，申请重新审查（可以接着写理由）\n"
            "找干部 — 请干部给您回电话\n"
            "政策 — 了解政策，也可以直接问，例如「谁可以申请」\n"
            "也可以直接发语音。")


def policy(config: Config) -> str:
    """The procedure as config.yaml defines it: its stages and its total clock."""
    procedure = config.procedures[CaseKind.IDENTIFICATION]
    steps = " → ".join(["提交申请", *(procedure.stages[k].label for k in procedure.order)])
    unit = "个工作日" if procedure.total.unit == "working" else "天"
    return ("防止返贫动态监测和帮扶：农户因病、因灾、因意外等原因，收入大幅下降或刚性支出明显增加，"
            f"存在返贫致贫风险的，可以申请。流程：{steps}，一般{procedure.total.days}{unit}内办完。"
            "纳入监测后会有干部结对帮扶，风险消除前帮扶不断。"
            f"咨询电话：{config.notice.hotline}。")


HINT = "没太明白您的意思。回复「申请」开始申请，「进度」查询进度，「帮助」查看全部功能。"

# What the bot can do, in short: a greeting gets it, and what cannot be understood.
OPTIONS = ("您可以：\n"
           "1. 申请帮扶：回复「申请」，或直接说家里遇到的困难\n"
           "2. 查询进度：回复「进度」\n"
           "3. 问政策：直接问，例如「谁可以申请」「要多久」\n"
           "4. 找干部：回复「找干部」，请干部给您回电话\n"
           "也可以直接发语音。")
MENU_TEXT = "没太明白您的意思，" + OPTIONS


def village(config: Config) -> str:
    return config.levels[Level.VILLAGE]


def faq_answer(config: Config, key: str | None, now: dt.datetime) -> str:
    """config.yaml's answer to a policy question, its blanks filled from config (the levels,
    the hotline, this year's income line, the procedure's total days); the policy overview
    when no question is named (the menu's 政策说明)."""
    entry = next((f for f in config.chat.faq if f.key == key), None)
    if entry is None:  # the menu's 政策说明, or a question the FAQ does not hold
        return (f"{policy(config)}\n没有解答您的问题的话，可以回复「找干部」请干部给您回电话，"
                f"或拨打{config.notice.hotline}咨询。")
    procedure = config.procedures[CaseKind.IDENTIFICATION]
    unit = "个工作日" if procedure.total.unit == "working" else "天"
    line = config.elimination_rules().line_for(now.astimezone(LOCAL).year)
    return entry.answer.format(
        hotline=config.notice.hotline, income_line=f"{line.amount:.0f}",
        township=config.levels[Level.TOWNSHIP], village=config.levels[Level.VILLAGE],
        county=config.levels[Level.COUNTY], total_days=f"{procedure.total.days}{unit}")


def consent(config: Config) -> str:
    return (f"提交即表示您同意并签署{CONSENT_FORM}：为核实您家的困难，{_up(config)}工作人员"
            "可以查询和使用您家的身份、收入、社保、医疗等信息，并承诺所填内容真实。"
            "这些信息只用于防返贫监测帮扶，公示时不会公开身份证号、电话和病情。")


def local(config: Config) -> Local:
    """The level a farmer asks for 复核 and the hotline, as config.yaml names them."""
    return Local(config.levels[Level.TOWNSHIP], config.notice.hotline)


def review_hint(config: Config) -> str:
    """Where a farmer who disagrees turns (复核 is the township's)."""
    return notifications_wording.review_hint(local(config))


WEEKDAYS = "一二三四五六日"


def callback_promised(promise: Promise, config: Config) -> str:
    """转人工 answered: who calls back and by when (the last day in Beijing time, with its
    weekday), and the hotline for what cannot wait. The cadre's name is all it says of them."""
    day = last_day(promise.due_at)
    paired_label = "帮扶联系人"  # what a paired cadre is to the household, whatever their post
    if promise.paired:
        who = f"您家的{paired_label}{promise.cadre_name}"
        if promise.role_label != paired_label:
            who += f"（{promise.role_label}）"
    else:
        who = f"{promise.role_label}{promise.cadre_name}"
    said = "已经请" if promise.already else "已请"
    again = "您之前的请求还在办理，" if promise.already else ""
    return (f"{again}{said}{who}给您回电话，最晚{day.month}月{day.day}日"
            f"（周{WEEKDAYS[day.weekday()]}）下班前。有急事请拨打{config.notice.hotline}。")
