"""The fixed Chinese words for statuses that config.yaml does not name (stages, roles and
categories are labelled there): one place for the pages and the ledger alike."""

MONITORING = {"none": "未纳入监测", "monitored": "监测对象", "eliminated": "风险已消除"}
CASE_STATUS = {"open": "办理中", "enrolled": "纳入监测", "rejected": "不予纳入",
               "eliminated": "风险消除", "withdrawn": "已撤回"}
# how a case came to be (Source); 村 is config.yaml's level name where a page has it
SOURCE = {"wechat": "农户自主申报", "cadre_visit": "干部走访排查", "screening": "部门筛查预警",
          "village_list": "村提出名单"}
CASE_KIND = {"identification": "识别纳入", "risk_elimination": "风险消除"}
# One name for a rejection, by procedure: a stage's negative verdict, the case it closes, the
# farmer's message and the ledger all say it so (never 不通过, 未通过, 未予纳入).
REJECTION = {"identification": "不予纳入", "risk_elimination": "暂不标注风险消除"}


def case_status(status: str, kind: str) -> str:
    """A case's status in words; a rejection by its procedure's name for it."""
    if status == "rejected":
        return REJECTION.get(kind, CASE_STATUS["rejected"])
    return CASE_STATUS.get(status, status)
