"""What the forms of the procedure share: the base of every stage's form (each stage's own is
in its module, approvals/procedure/stages/) and of the revisit's, and their refusals in Chinese.

Messages are Chinese and name the field, so a phone page or the bot can show them as they are.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    photos: list[str] = Field(default=[], title="照片")  # names under media_dir (photos.py)


_MESSAGES = {
    "missing": "必须填写",
    "too_short": "至少需要{min_length}项",
    "string_too_short": "至少填写{min_length}个字",
    "string_too_long": "最多填写{max_length}个字",
    "too_long": "内容过多",
    "less_than_equal": "不能大于{le}",
    "less_than": "必须小于{lt}",
    "greater_than": "必须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "date_from_datetime_parsing": "日期格式应为 2026-01-31",
    "date_parsing": "日期格式应为 2026-01-31",
    "int_parsing": "应填写整数",
    "int_from_float": "应填写整数",
    "int_type": "应填写整数",
    "decimal_type": "应填写数字",
    "date_type": "日期格式应为 2026-01-31",
    "bool_type": "应选择“是”或“否”",
    "list_type": "格式不正确",
    "dict_type": "格式不正确",
    "string_type": "应填写文字",
    "decimal_parsing": "应填写数字",
    "bool_parsing": "应选择“是”或“否”",
}


def chinese(form: type[Form], err: ValidationError) -> str:
    problems = []
    for e in err.errors():
        name = str(e["loc"][0]) if e["loc"] else ""
        field = form.model_fields.get(name)
        label = (field.title if field else None) or name
        if e["type"] == "value_error":  # our own validators speak Chinese already
            text = str(e["msg"]).removeprefix("Value error, ")
        else:  # pydantic's own words are English: never shown, a Chinese one instead
            text = _MESSAGES.get(e["type"], "填写有误，请检查").format(**(e.get("ctx") or {}))
        problems.append(f"「{label}」{text}" if label else text)  # the form's own rule
    return "；".join(problems)
