"""Resident ID numbers and personal data: validation (python-stdnum) and masking."""

from __future__ import annotations

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from approvals.record.errors import Refused


def normalize_id_number(value: str) -> str:
    """An 18-digit resident ID with a valid checksum, upper-case X; else a Chinese refusal."""
    try:
        return ric.validate(value.strip().upper())
    except ValidationError:
        raise Refused("身份证号码不正确，请核对后重新输入（18位，最后一位可能是X）。") from None


def mask_id(value: str) -> str:
    return f"{value[:6]}********{value[-4:]}" if len(value) == 18 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    return f"{value[:3]}****{value[-4:]}" if len(value) >= 7 else "*" * len(value)
