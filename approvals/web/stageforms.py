"""What each stage's page form posts, turned into the data approvals/procedure/forms.py checks."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from approvals.record.definitions import Stage


def _text(form: MultiDict[str, str], key: str) -> str:
    return (form.get(key) or "").strip()


def _number(form: MultiDict[str, str], key: str) -> str | None:
    value = _text(form, key).replace(",", "").replace("，", "").removesuffix("元")
    return value or None


def stage_data(stage: Stage, kind: str, form: MultiDict[str, str]) -> dict[str, Any]:
    match stage:
        case Stage.HOME_VERIFICATION:
            return {"visitors": [v for v in form.getlist("visitors") if v.strip()],
                    "visited_on": _text(form, "visited_on") or None,
                    "risk_confirmed": {"yes": True, "no": False}.get(_text(form, "risk")),
                    "income_estimate": _number(form, "income_estimate"),
                    "findings": _text(form, "findings")}
        case Stage.VILLAGE_REVIEW:
            return {"meeting_on": _text(form, "meeting_on") or None,
                    "attendance": _number(form, "attendance"),
                    "votes_for": _number(form, "votes_for"),
                    "votes_against": _number(form, "votes_against") or 0,
                    "minutes": _text(form, "minutes")}
        case Stage.TOWNSHIP_AUDIT:
            return {"opinion": _text(form, "opinion") or "同意"}
        case Stage.COUNTY_APPROVAL if kind == "identification":
            return {"comparison": _text(form, "comparison"),
                    "category": _text(form, "category"),
                    "paired_cadre_id": _number(form, "paired_cadre_id"),
                    "measures": [{"kind": _text(form, "measure_kind"),
                                  "description": _text(form, "measure_description"),
                                  "planned_on": _text(form, "measure_planned_on") or None}]}
        case Stage.COUNTY_APPROVAL:
            return {"comparison": _text(form, "comparison")}
    return {}
