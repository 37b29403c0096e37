"""The fixed Chinese words for statuses that config.yaml does not name (stages, roles and
categories are labelled there): one place for the pages and the ledger alike."""

MONITORING = {"none": "未纳入监测", "monitored": "监测对象", "eliminated": "风险已消除"}
CASE_STATUS = {"open": "办理中", "enrolled": "纳入监测", "rejected": "未通过",
               "eliminated": "风险消除", "withdrawn": "已撤回"}
CASE_KIND = {"identification": "识别纳入", "risk_elimination": "风险消除"}
