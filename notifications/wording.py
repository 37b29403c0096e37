"""What each outbox event says, in short plain Chinese. `render` gives the text of a
customer-service message and the short fields that template messages and subscription
notifications (订阅通知) are made of outside 48 hours.

Those fields are short on purpose: since May 2023 WeChat shows neither the first line nor the
remark of a template message and cuts each field after 20 characters; a subscription
notification's `thing` field takes 20 characters at most and refuses more (47003). A
decision's reason, what happens next and where to turn are therefore fields of their own
(`reason`, `next`, `review`), each meant to fit in 20 characters (bot/push.py trims what
does not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Local:
    """What this county calls the level a farmer asks for 复核 (config.yaml `levels`: 乡镇,
    苏木 ...) and its hotline (`notice.hotline`): the wiring passes them from config."""

    township: str = ""  # unsaid (a test's render): "向人民政府申请复核"
    hotline: str = "12317"


UNSAID = Local()  # a message rendered without the wiring's config (a test's)


def review_hint(local: Local) -> str:
    """Where a farmer who disagrees with a decision turns: the chat's 进度 says it too."""
    return (f"如对结果有异议，可以向{local.township}人民政府申请复核，"
            f"也可以拨打{local.hotline}热线反映。")


# 复核 asked for in the chat (bot/dialogue.py REEXAMINE), as a notification's field says it
REVIEW_IN_CHAT = "回复「申请复核」加上理由即可申请。"


def review_short(local: Local) -> str:
    """How to ask for 复核, in a template or subscription field (at most 20 characters)."""
    return f"不服可回复申请复核或拨{local.hotline}"


def objection_hint(local: Local) -> str:
    """Where a household that disagrees with a 风险消除 decision turns: the township (which
    audits it) or the hotline; 复核 in the chat is an application's (不予纳入) only."""
    return (f"如对结果有异议，可以向{local.township}人民政府反映，"
            f"也可以拨打{local.hotline}热线。")


# The events and channels by name, for whoever lists the outbox (`fangfan outbox`)
EVENT_NAMES = {"case_enrolled": "纳入监测通知", "case_rejected": "不予纳入通知",
               "case_returned": "退回补充通知", "cadre_digest": "每日待办提醒",
               "task_new": "新待办通知", "task_evidence": "部门数据补充通知",
               "stage_passed": "进展通知", "case_received": "受理通知",
               "media_saved": "照片已保存", "media_refused": "照片未保存",
               "callback_new": "回电请求通知", "case_fast_tracked": "先帮扶通知",
               "case_fast_tracked_township": "先帮扶报备通知",
               "consent_requested": "授权确认提醒", "objection_upheld": "公示异议处理通知",
               "reexamination_received": "复核受理通知", "reexamination_decided": "复核结果通知",
               "elimination_listed": "风险消除名单通知", "elimination_passed": "风险消除进展",
               "elimination_returned": "风险消除回退通知",
               "elimination_approved": "已标注风险消除通知",
               "elimination_rejected": "暂不标注风险消除通知",
               "elimination_reverted": "回退监测通知"}
CHANNEL_NAMES = {"custom": "客服消息", "subscribe": "订阅通知", "template": "模板消息",
                 "wecom": "企业微信"}

TAGS = {"due_soon": "即将到期", "overdue": "已超期", "escalation": "督办", "new": "新待办",
        "revisit": "回访", "no_measure": "未落实措施", "no_pairing": "未结对",
        "screening": "部门预警", "callback": "回电"}


def task_link(base_url: str, task_id: int) -> str:
    """The short link that opens a task on the phone after sign-in (the phone pages)."""
    return f"{base_url.rstrip('/')}/t/{task_id}"


def callback_link(base_url: str, callback_id: int) -> str:
    """The short link that opens a farmer's call-back request on the phone (the inbox's card):
    its number only, nothing of who asked."""
    return f"{base_url.rstrip('/')}/cb/{callback_id}"


def item_link(base_url: str, item: dict[str, Any]) -> str:
    """A task's page, or for a revisit the household's page (the phone pages)."""
    if item.get("callback_id"):
        return callback_link(base_url, item["callback_id"])
    if item.get("task_id"):
        return task_link(base_url, item["task_id"])
    if item.get("case_id"):  # a 复核: its block of the case page
        return f"{base_url.rstrip('/')}/c/{item['case_id']}#reexamination"
    return f"{base_url.rstrip('/')}/h/{item['household_id']}"


def _callback_line(item: dict[str, Any]) -> str:
    """A farmer waiting for a call (转人工): when it is due, or how late it is."""
    tag = TAGS["callback"]
    if item.get("urgency") == "overdue":
        tag += f"·已超期{item['late']}个工作日" if item.get("late") else "·已超期"
    elif item.get("urgency") == "due_soon":
        tag += "·即将到期"
    phone = f"（电话 {item['phone']}）" if item.get("phone") else ""
    return f"【{tag}】{item['place']} {item['head']}{phone} 请求回电话（{item['due']}前）"


def _line(item: dict[str, Any]) -> str:
    if item["kind"] == "callback":
        return _callback_line(item)
    tag = TAGS[item["kind"]]
    if item.get("late"):
        tag += f"{item['late']}个工作日"
    if item["kind"] == "no_measure":
        return (f"【{tag}】{item['place']} {item['head']} {item['due']}纳入监测，"
                "至今没有落实的帮扶措施")
    if item["kind"] == "no_pairing":
        return (f"【{tag}】{item['place']} {item['head']} 是监测对象，"
                f"{item['due']}起没有帮扶联系人，请尽快确定结对")
    if item["kind"] == "screening":  # a household, not a case: 户
        return (f"【{tag}·{item['level']}】{item['place']} {item['head']} "
                f"部门数据提示需走访：{item['rules']}（{item['due']}起）")
    if item["kind"] == "revisit":
        who = ("重点户，" if item.get("key_household") else
               "已消除风险户跟踪回访，" if item.get("eliminated") else "")
        return f"【{tag}】{item['place']} {item['head']} 定期回访（{who}{item['due']}起应回访）"
    what = "部门筛查预警" if item.get("screening") else "申请"
    return (f"【{tag}】{item['place']} {item['head']} {item['stage']}"
            f"（{what}{item['number']}，{item['due']}到期）")


def _digest(p: dict[str, Any], base_url: str) -> Rendered:
    """One message for all of a cadre's items of the day (not one message each)."""
    items = p["items"]
    lines = [f"{i}. {_line(item)}\n   办理：{item_link(base_url, item)}"
             for i, item in enumerate(items, 1)]
    counts = {k: sum(1 for i in items if i["kind"] == k) for k in TAGS}
    summary = "、".join(f"部门数据提示需走访{n}户" if k == "screening" else f"{TAGS[k]}{n}件"
                       for k, n in counts.items() if n)
    return Rendered(f"{p['name']}，您好。今天有{len(items)}件待办需要关注（{summary}）：\n"
                    + "\n".join(lines), "待办提醒", f"{len(items)}件", summary,
                    "\n".join(_line(i) for i in items[:3]) + ("……" if len(items) > 3 else ""),
                    f"{base_url.rstrip('/')}/inbox")


def _why(p: dict[str, Any]) -> str:
    return (p.get("reason") or "未说明").strip().rstrip("。.")


def _elimination(event: str, p: dict[str, Any], local: Local) -> Rendered:
    """风险消除 in its own words: 已列入风险消除名单, 已标注风险消除, 暂不标注风险消除, 回退;
    never an application's (申请, 纳入, 未予纳入)."""
    number = p.get("number", "")
    if event == "elimination_listed":
        detail = (f"接下来是「{p['next']}」，干部会上门核实风险是否已经稳定消除。"
                  "回复「进度」可以查询。")
        return Rendered(f"您家已列入风险消除名单（编号 {number}）。{detail}", "已列入风险消除名单",
                        number, "已列入风险消除名单", detail, next=f"{p['next']}，干部会上门")
    if event == "elimination_passed":
        detail = f"{_passed(p)}，现在进入「{p['next']}」。回复「进度」可以查看详情。"
        return Rendered(f"您家的风险消除（编号 {number}）{detail}", "风险消除进展", number,
                        _passed(p, quoted=False), detail, next=f"进入{p['next']}")
    if event == "elimination_returned":
        detail = (f"需要补充：{(p.get('reason') or '请等候干部联系').rstrip('。.')}。"
                  f"{p.get('stage', '')}会重新办理，干部会联系您。")
        return Rendered(f"您家的风险消除（编号 {number}）已回退重新办理。{detail}",
                        "风险消除已回退", number, "回退重新办理", detail,
                        reason=(p.get("reason") or "请等候干部联系").rstrip("。."),
                        next="干部会联系您")
    if event == "elimination_approved":
        contact = (f"帮扶联系人{p['cadre']}（电话 {p['cadre_phone']}）会继续定期回访，"
                   if p.get("cadre") else "干部会继续定期回访，")
        detail = (f"原因：经核实，您家收入稳定、风险已经消除。{contact}"
                  f"如果再遇到困难，请及时告诉干部。{objection_hint(local)}")
        return Rendered(f"您家（编号 {number}）经审定，已标注风险消除。{detail}",
                        "已标注风险消除", number, "已标注风险消除", detail,
                        reason="收入稳定，风险已消除", next="干部会继续定期回访",
                        review=f"有异议可拨{local.hotline}反映")
    if event == "elimination_rejected":
        detail = (f"原因：{_why(p)}。您家继续作为监测对象，帮扶措施照常落实。"
                  f"{objection_hint(local)}")
        return Rendered(f"您家的风险消除（编号 {number}）经审核，暂不标注风险消除。{detail}",
                        "暂不标注风险消除", number, "暂不标注风险消除", detail,
                        reason=_why(p), next="继续监测，帮扶照常落实",
                        review=f"有异议可拨{local.hotline}反映")
    if event == "elimination_reverted":
        detail = (f"原因：{_why(p)}。您家重新作为监测对象，帮扶联系人会继续落实帮扶措施。"
                  f"{objection_hint(local)}")
        return Rendered(f"您家的风险消除已回退。{detail}", "风险消除已回退", "",
                        "重新纳入监测", detail, reason=_why(p), next="继续落实帮扶措施",
                        review=f"有异议可拨{local.hotline}反映")
    raise ValueError(f"unknown outbox event {event!r}")


@dataclass(frozen=True)
class Rendered:
    """A message: the customer-service text, and the fields that wechat.templates and
    wechat.subscriptions (config.yaml) name as {title} {number} {result} {detail} {reason}
    {next} {review}."""

    text: str  # the customer-service message
    title: str
    number: str
    result: str
    detail: str  # everything the text says after the headline (a WeCom card's lines)
    url: str = ""  # where a card's button goes (a task, the inbox)
    # a decision's short fields (≤ 20 characters each): why, what happens next, where to turn
    reason: str = ""
    next: str = ""
    review: str = ""

    def fields(self) -> dict[str, str]:
        """What a template's or subscription's wording may name."""
        return {"title": self.title, "number": self.number, "result": self.result,
                "detail": self.detail, "reason": self.reason, "next": self.next,
                "review": self.review}


FIELD_NAMES = frozenset(Rendered("", "", "", "", "").fields())


def _passed(p: dict[str, Any], quoted: bool = True) -> str:
    """A stage passed, as the household hears it; a notice period that ran out with no
    objection is said so (公示期满无异议), not as if someone approved it."""
    if p.get("notice_ended"):
        return f"{p['passed']}期满无异议"
    return f"已通过「{p['passed']}」" if quoted else f"已通过{p['passed']}"


def render(event: str, p: dict[str, Any], base_url: str = "", local: Local = UNSAID
           ) -> Rendered:
    number = p.get("number", "")
    if event == "case_enrolled":
        measures = "、".join(p.get("measures") or [])
        planned = f"接下来会落实{measures}等帮扶措施" if measures else "接下来会落实帮扶措施"
        contact = (f"，您的帮扶联系人：{p['cadre']}，电话 {p['cadre_phone']}，有困难可以直接联系"
                   if p.get("cadre") else "，帮扶联系人会和您联系")
        detail = (f"原因：经核实，您家存在返贫致贫风险，符合监测条件。{planned}{contact}。"
                  f"如有疑问，可以拨打{local.hotline}热线咨询。")
        return Rendered(f"您的申请（编号 {number}）已审定：纳入监测。{detail}",
                        "您的申请已办结", number, "纳入监测", detail,
                        reason="存在风险，符合监测条件",
                        next=(f"联系人{p['cadre']}会落实帮扶" if p.get("cadre")
                              else "会落实帮扶措施"),
                        review=f"有疑问可拨{local.hotline}咨询")
    if event == "case_rejected":
        detail = (f"原因：{_why(p)}。这次申请已办结；家里情况有变化时，可以随时重新申请。"
                  f"{review_hint(local)}{REVIEW_IN_CHAT}")
        return Rendered(f"您的申请（编号 {number}）经审核，不予纳入。{detail}",
                        "您的申请已办结", number, "不予纳入", detail, reason=_why(p),
                        next="情况有变化可重新申请", review=review_short(local))
    if event == "case_returned":
        detail = (f"需要补充：{(p.get('reason') or '请等候干部联系').rstrip('。.')}。"
                  f"{p.get('stage', '')}会重新办理，干部会联系您。")
        return Rendered(f"您的申请（编号 {number}）被退回补充材料。{detail}",
                        "您的申请需要补充材料", number, "退回补充", detail,
                        reason=(p.get("reason") or "请等候干部联系").rstrip("。."),
                        next="干部会联系您")
    if event.startswith("elimination_"):
        return _elimination(event, p, local)
    if event == "objection_upheld":  # never the handling's text: it can name the objector
        detail = (f"公示期间收到群众反映，经调查核实，需要重新办理「{p.get('stage', '')}」。"
                  "干部会联系您，请如实说明家庭情况。")
        return Rendered(f"您的申请（编号 {number}）{detail}", "您的申请需要重新核实", number,
                        "重新核实", detail)
    if event == "reexamination_received":
        detail = "已为您提交复核申请，会重新审查并把结果告诉您。回复「进度」可以查询。"
        return Rendered(f"您的申请（编号 {number}）{detail}", "复核申请已受理", number, "已受理",
                        detail)
    if event == "reexamination_decided":
        why = (p.get("reason") or "").rstrip("。.")
        if p.get("result") == "revoked":
            detail = (f"复核结果：撤销原结论，重新办理。理由：{why}。"
                      "会重新入户核实，干部会联系您。")
            result, after, review = "撤销原结论，重新办理", "重新入户核实", "干部会联系您"
        else:
            detail = (f"复核结果：维持原结论。理由：{why}。"
                      f"如仍有异议，可以拨打{local.hotline}热线反映。")
            result, after, review = "维持原结论", "复核已办结", f"仍有异议可拨{local.hotline}"
        return Rendered(f"您的复核申请（编号 {number}）已办结。{detail}", "复核结果", number,
                        result, detail, reason=why, next=after, review=review)
    if event == "cadre_digest":
        return _digest(p, base_url)
    if event == "task_new":  # a stage's task, or a 复核 (its block of the case page)
        item = p["item"]
        link = item_link(base_url, item)
        detail = f"{_line(item)}\n办理：{link}"
        return Rendered(f"{p['name']}，您有一项新的待办：{detail}", "新的待办", item["number"],
                        item["stage"], detail, link)
    if event == "callback_new":
        item = p["item"]
        link = callback_link(base_url, item["callback_id"])
        phone = f"电话 {item['phone']}" if item.get("phone") else "未留电话"
        detail = (f"{item['place']} {item['head']}，{phone}，在微信中请求干部回电话。"
                  f"请在{item['due']}前回电，回电后在待办里点「已回电」。\n处理：{link}")
        return Rendered(f"{p['name']}，{detail}", "回电请求", "", f"{item['due']}前回电",
                        detail, link)
    if event == "task_evidence":
        item = p["item"]
        link = task_link(base_url, item["task_id"])
        detail = (f"{item['place']} {item['head']}（{item['number']}，{item['stage']}）："
                  f"部门数据比对发现新情况（{'、'.join(p['rules'])}），已补充到案件，"
                  f"办理时请一并核实。\n查看：{link}")
        return Rendered(f"{p['name']}，{detail}", "部门数据补充", item["number"], item["stage"],
                        detail, link)
    if event == "stage_passed":
        detail = f"{_passed(p)}，现在进入「{p['next']}」。回复「进度」可以查看详情。"
        return Rendered(f"您的申请（编号 {number}）{detail}", "申请进展", number,
                        _passed(p, quoted=False), detail, next=f"进入{p['next']}")
    if event == "case_received":
        detail = (f"已为您家登记了防返贫监测申请，接下来是「{p['next']}」，"
                  "干部会上门了解情况。回复「进度」可以查询。")
        return Rendered(f"{detail}申请编号 {number}。", "申请已受理", number, "已受理", detail,
                        next=f"{p['next']}，干部会上门")
    if event == "case_fast_tracked":
        detail = ("您家的困难已按“先帮扶后认定”办理：帮扶已先落实，认定程序随后办理，"
                  "结果会告诉您。回复「进度」可以查询。")
        return Rendered(f"您的申请（编号 {number}）{detail}", "已先行帮扶", number,
                        "先帮扶后认定", detail)
    if event == "case_fast_tracked_township":
        done = f"已落实：{p['measure']}。" if p.get("measure") else "帮扶措施待落实。"
        facts = f"事实：{p['facts']}。" if p.get("facts") else ""
        detail = (f"{p['place']} {p['head']}（申请{number}）因{p['cause']}按先帮扶后认定办理，"
                  f"{done}{facts}认定程序随后办理。")
        return Rendered(f"{p['name']}，您好。{detail}", "先帮扶后认定", number,
                        "已先行帮扶", detail, f"{base_url.rstrip('/')}/inbox")
    if event == "consent_requested":
        detail = ("干部走访时为您家登记了防返贫监测申请。"
                  "请确认《监测对象申请及承诺授权查询书》：同意有关部门查询您家成员的身份、收入、社保、医疗等信息，并承诺所填内容真实。"
                  "同意请回复「确认授权」；确认之前，申请不会通过审核。")
        return Rendered(f"{detail}申请编号 {number}。", "请确认承诺授权", number, "待确认",
                        detail)
    if event == "media_saved":
        detail = f"已保存{p.get('count', 1)}张照片，会附在您的申请里。"
        return Rendered(detail, "照片已保存", number, "已保存", detail)
    if event == "media_refused":
        detail = ("刚才发的文件超过10MB，没有保存。请发一张小一点的照片。"
                  if p.get("reason") == "too_large"
                  else "刚才发的不是照片，没有保存。请直接拍照或从相册选择照片发送。")
        return Rendered(detail, "照片未保存", number, "未保存", detail)
    raise ValueError(f"unknown outbox event {event!r}")
