"""What a message asks for, from the phrases people use (我要申请帮扶, 到哪一步了, 转人工).

Phrases, not a model: each intent has a handful of ways of saying it, and their order
decides between them (a demand for 复核 before a question about 复核, a withdrawal before an
application). The balance with the slots (an answer that happens to contain a question word)
is `bot.reading.reader`'s.
"""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from bot.reading import Intent

_TAIL = " .。!！~～,，?？啊呀吧哈呢嘛哦了的"

# a question in form: a question mark, a final particle, or a question word
QUESTION_FORM = re.compile(r"[?？]|([\u4e00-\u9fff])不\1|吗|呢\s*$|么\s*$|不\s*$|没\s*$|怎么|怎样|"
                           r"如何|什么|啥|多少|几天|几个|几年|几月|几次|几回|真的假的|是真是假|"
                           r"哪|谁|是不是|能不能|可不可以|要不要|会不会|有没有|多久|多长|为什么|为啥|"
                           r"咋|请问")
# a question only when it opens or closes the message (「我问一下」 or 「……吗」)
QUESTION_CLEAR = re.compile(r"[?？]\s*$|(?:真的假的|是真是假)\s*$|([\u4e00-\u9fff])不\1|\S还是\S|"
                            r"(吗|呢|(?<![什怎这那])么|不|多少|谁|咋|(?<!没)(干|为|是|要|做|有|算)(啥|什么))"
                            r"\s*[?？]?\s*$|^(请问|"
                            r"问一下|我想问|想问)|"
                            r"^(怎么|怎样|如何|为什么|为啥|咋|什么|啥|谁|哪|多久|多长|多少|几|"
                            r"是不是|能不能|可不可以|有没有|要不要)")

# 确认授权 said many ways: the word 授权 with a yes (授权确认, 授权给干部), a yes to the
# cadre filing for the household (同意干部帮我申报, 是我让干部代我申请的), a yes to the check
# of the household's records (同意查询); a question about it (授权是啥意思) is not one
CONSENT = re.compile(r"(确认|同意|愿意|我|俺)(?:(?!不|没|未|别)\S){0,2}授权|"
                     r"授权\S{0,2}(确认|同意|给|吧|了)|^授权$|"
                     r"(同意|确认|愿意)\S{0,2}(查询|核查|查|核实)(?!\S{0,2}(进度|结果))|"
                     r"((同意|确认|愿意|是我让|是我叫|我让|俺让)\S{0,6}(干部|村里|村委|书记|村长)"
                     r"\S{0,4}(代|替|帮)\S{0,4}(申请|申报|报|办))")
# 「我不授权」, 「不同意查询」: a refusal, whatever words of consent it holds
CONSENT_DENIED = re.compile(r"(不|没|未|别)(同意|确认|愿意|授权|让)|(不|没|未|别)\S{0,2}授权")
# (a bare 「同意」 or 「我确认」 is AGREE: whether a cadre's filing awaits it is the dialogue's
# to know, not the reader's)
# 复核: a demand (申请复核, 我不服, 为什么不给我办) and the grounds after it
_REEXAMINE = re.compile(
    r"^复核$|申请复核|要求复核|我要复核|请求复核|复核一下|重新审核|重新审查|我不服|不服气|不服|"
    r"(我|我们|俺)?(要|想|得)(申诉|复核|重审)|重新(审|评|核)|再(给|帮)(我|俺)?(家)?(审|评|核|看看|查查)|"
    r"结果(不对|有问题|不合理|不公平)|(不同意|不认可|不接受|不满意)\S{0,4}(结果|决定)|"
    r"(结果|决定)\S{0,3}(不认可|不服|不接受|不同意|不满意)|"
    r"(为什么|为啥|凭什么|凭啥|咋)[^,，。?？]{0,6}?(不行|没有?我|没评上|没选上|没批|没通过)|"
    r"^凭啥|(别人|人家|他家|他们)\S{0,4}(都|能)\S{0,2}(评上|选上|批|纳入)|"
    r"(为什么|为啥|凭什么|凭啥|咋)[^,，。?？]{0,4}?(不|没)予?(给|让|帮|批|办|通过|纳入|评上|评|选上|弄)[我俺们家的]*"
    r"(办|批|通过|纳入|评上|弄|申请上)?|凭什么|不予纳入不合理|不公平")
# a question about how to ask for it is the FAQ's (「怎么申请复核」, 「复核怎么弄」)
_REEXAMINE_HOW = re.compile(r"(不服|不同意|不满意|不公平|结果不对|有意见|有问题)\S{0,4}"
                            r"(怎么办|咋办|怎么弄|找谁|去哪|哪里|向谁|跟谁)|"
                            r"(怎么|如何|怎样|咋|去哪|哪里|找谁)\S{0,4}(复核|申诉|异议)|"
                            r"(复核|申诉|异议)\S{0,4}(怎么|如何|怎样|咋|吗|什么|啥)|"
                            r"(能|可以|能不能|可不可以)\S{0,6}(复核|申诉)\S{0,2}(吗|不|么|没)?\s*$")
KEEP = re.compile(r"不(要|想|用)?撤|(别|甭|莫)撤")  # 「算了不撤了」: the application stays
_WITHDRAW = re.compile(r"撤回|撤销|撤掉|撤了|撤申请")
# giving up: the draft (CANCEL) or, with nothing being filled, the application (WITHDRAW)
# stopping said with any verb of doing it (不填了, 别写了; at the end: 太麻烦了 不搞了, 莫整了,
# where 「地里的活不搞了 身体不行」 tells the difficulty)
_CANCEL_SAID = re.compile(r"(不|别|莫|甭|不想|不要)(再)?(填|填写|写|继续)了|"
                          r"(不|别|莫|甭|不想|不要)(再)?(弄|搞|整)了[\s,，。!！吧啊呀]*$|取消填写|"
                          r"停止填写")
_GIVE_UP = re.compile(r"不想申请了|不申请了|不办了|不想办了|取消申请|申请不要了|不要申请了|不弄了|"
                      r"不想弄了|取消[^,，。?？]{0,10}申请(?!\S{0,2}(复核|授权))")
# a withdrawal asked for as a question (能不能撤销我的申请, 可以帮我撤回吗) is still one
_WITHDRAW_ASKED = re.compile(r"(能不能|可不可以|能否|可以|能|麻烦)\S{0,3}(撤回|撤销|撤掉)"
                             r"(我|俺)?(家)?的?(申请)?(吗|不|么|呢)?\s*[?？]?\s*$|"
                             r"(撤回|撤销|撤掉)\S{0,6}(能不能行|行不行|可以吗|可不可以|行吗|能行吗|成吗|"
                             r"好吗)\s*[?？]?\s*$")
_CANCEL = re.compile(r"^(取消|算了|不填了|不写了|放弃|重来|重新来|重新填|重新开始|退出|结束|不要了)"
                     r"(吧|了|啊)?$")
HUMAN = re.compile(r"找\S{0,3}(干部|书记|村长|主任)|转人工|人工服务|人工客服|找人工|^人工$|要人工|"
                   r"找干部|找村干部|找书记|找村长|"
                   r"跟人说|和人说|找真人|真人|^客服$|找客服|打电话给我|给我打(个)?电话|给我回(个)?电话|"
                   r"回个电话|打个电话给我|联系我|让干部|叫干部|干部(来|上门)|找个人|有人工吗|"
                   r"跟干部说|和干部说|找(我的)?帮扶(人|干部|联系人|责任人)|找负责的|"
                   r"(和|跟|与|同)\S{0,4}(干部|书记|村长|主任|联系人|真人)\S{0,2}(通个?话|说个?话|通个?电话|聊|讲|联系)|"
                   r"(我要|我想|想|要)找(个)?人|(让|叫|派)(个)?人\S{0,3}(打电话|来|联系)|"
                   r"机器人\S{0,4}(说不清|不懂|不行|听不懂)")
PROGRESS = re.compile(r"进度|(审批|审核|申请)结果|(审核|审批|办|批|申请)到哪|"
                      r"(办|批|审|弄)得?(咋样|怎样)|到哪一?步|哪一步了|到哪了|到哪儿了|办得?怎么样|办到哪|审到哪|批到哪|"
                      r"^查一?下|帮我查|查查|^查询|查一下|有结果了?[吗没]|结果出来|结果怎么样|批了没|"
                      r"批了吗|批下来了?[没吗]|通过了?[吗没]|(怎么|咋|为啥|为什么)?还没(有)?(批|办|消息|结果|动静|回复|"
                   r"信|通知|下来)|申请的?\S{0,6}(啥|什么|怎么个)情况|(现在|目前)(是)?(啥|什么)情况|"
                      r"怎么样了|有消息[吗没]|有没有消息|办好了?[吗没]|办了没|弄好了?[吗没]|"
                      r"审核(过|通过)了?[吗没]|我家的(申请)?(怎么样|咋样)|申请的?(怎么样|咋样)了|"
                      r"(?P<did>[批办审])没(?P=did)|进展|有动静")
# 修改: which slot, from the words that name it
_EDIT = re.compile(r"修改|补充|漏了|漏写|写得不全|填得不全|没写全|改成|改为|改一下|改下|改个|要改|"
                   r"想改|写错|"
                   r"换成|换为|"
                   r"填错|弄错|搞错|输错|打错|更正|^改|说错")
# 「是三口人 不是四口」 corrects the summary; elsewhere 「不是我不想干，是身体不行」 is no edit
# at the summary only: 「类别再加一个因学」, 「困难那个我要重新说」 (elsewhere 「加上儿子」 counts)
_AT_SUMMARY = re.compile(r"换一个|变成|再加|加上|加一个|添上|再添|重新说|重说|重新讲|重新写")
_CORRECTION = re.compile(r"不是.{1,6}是|是.{1,8}不是")
EDIT_TARGETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("who", re.compile(r"名字|姓名|身份证|叫什么")),
    ("phone", re.compile(r"电话|手机|号码")),
    ("income", re.compile(r"收入|收人|挣|工资|赚")),
    ("size", re.compile(r"人口|口人|人数|几口|几个人")),
    ("risks", re.compile(r"风险|类型|类别")),
    ("difficulty", re.compile(r"困难|情况|原因|难处")),
    ("village", re.compile(r"村|地址|住址|住的地方")),
)
HELP = re.compile(r"^(帮助|菜单|主菜单|help|功能|使用说明|说明|\?|？)$|菜单|你能(干|做)(啥|什么)|"
                  r"能(干|做|办|帮我?(干|做|办)?)(点)?(啥|什么|哪些)(事)?|(咋|怎么|如何)(操作|使用)|"
                  r"看不懂|不会用|(都|还)?可以(干|做|办)(啥|什么|哪些)|"
                  r"怎么用|咋用|咋个用|(有|是)(什么|哪些|啥)功能|你是谁|你是(机器人|真人|人)|"
                  r"(你们|这个|你|这里)(号|公众号|平台|程序|小程序|机器人)?(是)?(干|做)(什么|啥)(子)?"
                  r"(的|用的)?\s*[?？]?\s*$|"
                  r"你(们)?(都|还)?(会|能|可以)?(干|做|办)(些|点)?(啥|什么|哪些)",
                  re.IGNORECASE)
# 「能申请吗」 asks whether, not to start: the FAQ answers it (and says how to start)
_MAY_APPLY = re.compile(r"(能|可以|可不可以|能不能)(申请|申报)(吗|不|么|没)?|"
                        r"(能|可以)报(得)?上?(吗|不|么)|(符合|够)(条件|资格)(吗|不|么)|够不够条件|符不符合")
# Asking to apply outright, checked before the FAQ (「怎么申请」 is not 「怎么申请复核」). 怎么申请
# is taken as applying: the bot's answer to "how" is to start it, one question at a time,
# which tells how better than a paragraph would.
APPLY_OUTRIGHT = re.compile(r"(^申请$|^申报$|我要申请|我想申请|想申请|(怎么|怎样|咋)个?申请|"
                            r"如何申请|(在|去|到)?哪(里|儿)?(能|可以)?申请|开始申请|申请帮扶|"
                            r"申请救助|申请帮助)(?!\S{0,2}(复核|申诉))")
APPLY = re.compile(r"我要申请|我想申请|想申请|要申请|申请帮扶|申请救助|申请监测|申请帮助|申请补助|"
                   r"申请低保|怎么申请|如何申请|咋申请|在哪申请|开始申请|^申请$|^我要申请|申报|"
                   r"(我|俺|咱)(们)?家(?:(?!不|没)\S){0,2}困难|家里困难|家庭困难|生活困难|"
                   r"(让|请|求|要|想)(政府|国家|干部|村里)\S{0,2}帮|求\S{0,3}帮(忙|一下|一把|帮)|"
                   r"(日子|生活)\S{0,2}过不下去|遇到(了)?(困难|难处|难事)|有(困难|难处)|"
                   r"难处了|需要帮助|需要帮扶|求助|帮帮我|救救|帮帮忙|^帮扶$|想要帮扶|要帮扶|报名|我申请|"
                   r"申请.{0,6}(监测|帮扶|救助|补助|低保|帮助)|(给|帮|替)\S{0,4}申请|申请表|申请一下|"
                   r"(要|想)办(个|一个)?(防返贫|监测|帮扶|申请)|(要|想)?报(困难户|贫困户|监测户?|低保|帮扶)")
# A greeting or thanks: its words, whom they are said to, and particles, in any run
# (喂喂你好在吗, 您好，打扰了, 谢谢干部, 🙏🙏谢谢); emoji and punctuation are dropped by
# `plain` first, and at least one word must be there (「。。。」 greets nobody).
_GREETING_WORDS = (r"你好|您好|你们好|大家好|在吗|在不在|在没|在么|有人吗|有人在吗|有没有人|有人没|"
                   r"哈喽|哈罗|嗨|hello|hi|喂|早上好|上午好|中午好|下午好|晚上好|早安|晚安|早|"
                   r"谢谢|谢了|谢啦|感谢|多谢|麻烦了|麻烦你们?了|辛苦了|辛苦|打扰了|打扰一下|再见|拜拜|"
                   r"好嘞|知道了|明白了|知道|明白|收到|好的|好|行|ok")
_TO_WHOM = (r"你们|你|您|们|干部|书记|村长|主任|领导|政府|同志|老师|大家|党|国家|"
            r"啦|了|呀|啊|哈|哦|嘞|吧|呢")
_GREETING_RUN = re.compile(rf"^(?:{_GREETING_WORDS}|{_TO_WHOM})+$", re.IGNORECASE)
_GREETING_WORD = re.compile(_GREETING_WORDS, re.IGNORECASE)
# what is not a word: punctuation, emoji, symbols (kept: Han, letters, digits)
_NOT_WORD = re.compile(r"[^\w\u4e00-\u9fff]|_")


def greets(text: str) -> bool:
    """Only greetings or thanks, said to anyone, with at least one greeting word."""
    said = plain(text)
    return bool(said) and len(said) <= 40 and bool(_GREETING_RUN.match(said)
                                                   and _GREETING_WORD.search(said))


def plain(text: str) -> str:
    """The message's words only: no punctuation, spaces or emoji."""
    return _NOT_WORD.sub("", text)


_YES = (r"(对|是|好|嗯|可以|行|确认|没错|同意|没问题|没有问题|提交|确定|ok|正确|无误|都对|就这样|"
        r"要|需要|要得|莫得问题|没得问题|交|交了|交吧|撤回|撤销|撤|撤吧|对头|中|成|没毛病|全对|都对|没有?错|信息|内容|全部|都|就|"
        r"这样)")
AGREE = re.compile(rf"^(?:{_YES}|[\s,，。!！]|吧|的|了|啊|呀|哈|嘛|呢|吧)+$", re.IGNORECASE)
# at a withdrawal, giving the application up is the yes (「是 不要了」)
AGREE_WITHDRAW = re.compile(r"^(是|对|嗯|好|确定)?[\s,，]*(不要|不申请|不办|撤)(了)?(吧)?$")
REFUSE = re.compile(r"^((先不提交|先别提交|别提交|不要提交|暂时不|先不急|等一等|不是这样|不是这个|"
                    r"不是的|不太对|不大对|不正确|不准确|有错的?|有问题|有误|弄错了|搞错了|"
                    r"不|不是|不对|错了|"
                    r"错|否|不同意|不行|不要|不用|不提交|先不|先不要|等等|等一下|"
                    r"(我|俺)?不同意|再想想|我再想想|再看看|我再看看|不撤|不撤了|不撤回|不了|没有|算了|不确认|别撤|不撤销)(吧|了|啊|呢|的)?)+$")
SKIP = re.compile(r"^(跳过|不填|无|不方便|算了|不用了|不用|略过|下一步|不要|不知道|不清楚|都不是|"
                  r"没有了|(我|俺|家里)?(不留|没有|没|没得|莫得|木有|冇|冇得|不想留|不方便留|不方便给|不给|不用留|"
                  r"不想给|不愿意留|不留了)"
                  r"(电话|手机号?|号码|电话号码|手机号码)?)"
                  r"(吧|了|啊|哦)?$")


# the phone is the one optional slot: declining it is said in a sentence, not one word
# (电话不想留, 先不留, 跳过这个, 电话就不留了吧 有事微信上说)
SKIP_PHONE = re.compile(r"(不想|不愿意?|不方便|先|就|可以|还是|暂时|那就)?(不留|不给|不填|不写)|"
                        r"(不想|不愿意?|不方便|不用|不必)(留|给|填|写)|跳过|略过|"
                        r"(没有?|没得|莫得)(电话|手机)")


_FIRST_CLAUSE = re.compile(r"[\s,，.。!！?？;；]")


def first_clause(text: str) -> str:
    """The message up to its first space or punctuation (「重新来 这次的不要了」)."""
    return _FIRST_CLAUSE.split(text.strip(), maxsplit=1)[0]


# 「政策」 alone (or 政策说明, 有啥政策): the policy in general, answered by its overview
POLICY_ALONE = re.compile(r"^(了解|看看|讲讲|介绍|说说|问问)?(一下)?(有)?(啥|什么|哪些)?"
                          r"(相关|防返贫|监测|扶贫)?"
                          r"政策(说明|解读|介绍|是什么|有哪些|有啥|咋样|怎么样)?(吗|呢|啊|呀)?$")


# What the bot's business is about: with nothing pending, a question the FAQ does not know
# is still the bot's to answer (「你们办公室在哪里」) when it names one of these; 「明天赶集去不去」
# is small talk. Mid-application any question is taken as about the application.
ON_TOPIC = re.compile(r"你们|您|机器人|这个|办|申请|申报|帮扶|监测|政策|补|低保|救助|复核|审|批|"
                      r"干部|村委|"
                      r"书记|乡|镇|县|政府|钱|费|收入|标准|材料|证|公示|户|结果|进度|流程|手续|条件|资格|"
                      r"电话|热线|信息|名单|困难|贫|医保|报销|评")


def bare(text: str) -> str:
    """The message without the punctuation and particles around it."""
    return text.strip(_TAIL)


def reexamination(text: str) -> str | None:
    """The grounds ("" if none) when the message demands a 复核, else None."""
    if _REEXAMINE_HOW.search(text):
        return None
    m = _REEXAMINE.search(text)
    if m is None:
        return None
    return (text[:m.start()] + " " + text[m.end():]).strip(_TAIL + " ：:")


def gives_up(text: str, *, expecting: str | None) -> Intent | None:
    """WITHDRAW, CANCEL or None."""
    if KEEP.search(text):
        return None  # 不撤了: a refusal, read by the caller
    if _WITHDRAW.search(text) and (not QUESTION_CLEAR.search(text)
                                   or _WITHDRAW_ASKED.search(text)):
        return Intent.WITHDRAW
    if _GIVE_UP.search(text):
        return Intent.WITHDRAW if expecting in (None, "withdraw") else Intent.CANCEL
    if _CANCEL_SAID.search(text):
        return Intent.CANCEL if expecting not in (None, "withdraw") else Intent.WITHDRAW
    if _CANCEL.match(bare(text)) or _CANCEL.match(bare(first_clause(text))) or (
            "取消" in text and len(bare(text)) <= 8
                                      and "授权" not in text):
        if bare(text) == "算了" and expecting == "phone":
            return None  # 算了 to the phone: skip it
        return Intent.CANCEL
    return None


def edit(text: str, *, expecting: str | None) -> tuple[bool, str | None]:
    """Whether the message changes a slot, and which (None: not said)."""
    if not (_EDIT.search(text) or (expecting == "confirm" and (
            _CORRECTION.search(text) or _AT_SUMMARY.search(text)))):
        return False, None
    for slot, words in EDIT_TARGETS:
        if words.search(text):
            return True, slot
    return True, None


def may_apply(text: str) -> bool:
    return bool(_MAY_APPLY.search(text))


# The commands people type, for a short message with one character wrong (转人公, 查近度,
# 我要申情): rapidfuzz's ratio, one character of three (67) at the least. Only a message
# nothing else could read gets here.
COMMANDS: dict[str, Intent] = {
    "我要申请": Intent.APPLY, "申请帮扶": Intent.APPLY, "申请救助": Intent.APPLY,
    "查进度": Intent.PROGRESS, "查询进度": Intent.PROGRESS, "到哪一步了": Intent.PROGRESS,
    "撤回申请": Intent.WITHDRAW, "转人工": Intent.HUMAN, "找干部": Intent.HUMAN,
    "申请复核": Intent.REEXAMINE, "确认授权": Intent.CONSENT, "取消填写": Intent.CANCEL,
    "主菜单": Intent.HELP,
}
_COMMAND_TEXTS = list(COMMANDS)
# two characters: a typo there is a folded sound (申情), never one character of two
_SHORT_COMMANDS = {"申请": Intent.APPLY, "进度": Intent.PROGRESS, "人工": Intent.HUMAN,
                   "复核": Intent.REEXAMINE, "授权": Intent.CONSENT, "撤回": Intent.WITHDRAW}


# Words a pinyin keyboard or voice input writes with other characters of the same sound
# (申情 for 申请, 进渡 进度, 帮付 帮扶, 复合 复核, 审请 申请): pypinyin reads the message's sounds
# and a run of them that is a command word's is written as that word. A sound table kept by
# hand missed every homophone nobody had listed; pypinyin knows them all. The sounds are
# compared loosely where speakers and keyboards blur them (zh/z, ch/c, sh/s, -ng/-n, me/mo).
# Folded only in a message nothing else read.
_COMMAND_WORDS = ("申请", "帮扶", "进度", "复核", "授权", "撤回", "撤销", "人工", "怎么", "查询",
                  "救助", "取消", "菜单", "帮助", "干部", "申报", "审核")
_LOOSE = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ng", "n"))


def _sound(syllable: str) -> str:
    for blurred, kept in _LOOSE:
        syllable = syllable.replace(blurred, kept)
    return "mo" if syllable == "me" else syllable


def _sounds(han: str) -> list[str]:
    return [_sound(p) for p in lazy_pinyin(han)]


_WORD_SOUNDS = {tuple(_sounds(word)): word for word in _COMMAND_WORDS}
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _fold(run: re.Match[str]) -> str:
    han = run.group()
    sounds = _sounds(han)
    if len(sounds) != len(han):  # a syllable per character, or nothing is folded
        return han
    out = list(han)
    i = 0
    while i < len(out) - 1:
        word = _WORD_SOUNDS.get((sounds[i], sounds[i + 1]))
        if word is not None:
            out[i:i + 2] = word
            i += 2
        else:
            i += 1
    return "".join(out)


def sounds_like(text: str) -> str:
    """The text with each run of characters that sounds like a command word written as it."""
    return text if len(text) > 40 else _HAN_RUN.sub(_fold, text)


def mistyped_command(text: str) -> Intent | None:
    """The command a short message (3 to 8 characters) was meant to be, if it is one
    character off."""
    said = bare(text)
    if said in _SHORT_COMMANDS:
        return _SHORT_COMMANDS[said]
    if not 3 <= len(said) <= 8:
        return None
    found = process.extractOne(said, _COMMAND_TEXTS, scorer=fuzz.ratio, score_cutoff=66)
    return COMMANDS[found[0]] if found else None
