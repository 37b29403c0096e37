"""The reader measured on what farmers actually send: every message of the held-out corpus
(tests/bot/corpus/blind.yaml) is read with the vocabulary of config.yaml, and the intents
and slot values it finds are compared with what the message means.

Intent accuracy: messages whose intent is right / messages. A question counts as right only
with the right FAQ entry (a wrong answer is not an answer), an edit only with the right slot
named (or none, when the farmer named none).
Slot accuracy: expected (slot, value) pairs found with the right value / (expected pairs +
slots given that the message did not carry). Income and expense are compared as the value
with its approximate and monthly flags; risk types as the tuple, in config order; the
difficulty's text is not scored. Both must reach 95%.

The corpus is written for this, independently of the reader. dev.yaml was written first and
tuned on; messages.yaml and then holdout.yaml were held out, measured once, then tuned on too:
all three are tuning sets, read and their figures shown, but no longer a measure. blind.yaml
was written afterwards by someone who saw neither the reader nor the entries of those sets:
its figures are the gate.
`pytest tests/bot/test_corpus.py -s` shows the report; a failing run shows it in the failure too.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from stdnum.cn import ric

from bot.reading import (
    SLOT_ORDER,
    Amount,
    FaqEntry,
    Intent,
    Reading,
    Slots,
    Vocabulary,
    read,
)
from fangfan.config import Config

CORPUS = Path(__file__).parent / "corpus"
HELD_OUT = "blind.yaml"  # the measure: nobody tunes on it
# read and shown, not gated: the reader was tuned on them
TUNING = ("dev.yaml", "messages.yaml", "holdout.yaml")
ALL = (HELD_OUT, *TUNING)
TARGET = 0.95  # issue #22: not reached yet on blind.yaml (see MEASURED)
# What the reader reaches on blind.yaml today (intents, slot values): a floor that a change
# may not go below. Raise it when the reader gets better; the target stays 95%.
MEASURED = (0.85, 0.92)
SHOWN_FAILURES = 40

EXPECTING = {None, *SLOT_ORDER, "confirm", "withdraw"}
ENTRY_KEYS = {"text", "expecting", "intent", "slots", "faq", "edit", "wrong_id"}
SLOT_KEYS = {"name", "id_number", "village", "size", "risks", "phone",
             "income", "income_approximate", "income_monthly",
             "expense", "expense_approximate", "expense_monthly"}
PHONE = re.compile(r"1[3-9]\d{9}")
# an ID number as typed: 17 digits and a check character, perhaps spaced out by voice input
ID_LIKE = re.compile(r"\d[\d ]{15,24}[\dXx]")

Reader = Callable[[str, str | None], Reading]


@dataclass(frozen=True)
class Entry:
    """One message of the corpus and what it means."""

    text: str
    expecting: str | None
    intent: Intent
    pairs: Mapping[str, object]  # slot → value, as the reader's Slots would hold it
    faq: str | None = None
    edit: str | None = None
    wrong_id: bool = False


def _amount(slots: Mapping[str, Any], key: str) -> Amount | None:
    if key not in slots:
        return None
    return Amount(int(slots[key]), approximate=bool(slots.get(f"{key}_approximate")),
                  monthly=bool(slots.get(f"{key}_monthly")))


def _pairs(slots: Mapping[str, Any], risk_order: list[str]) -> dict[str, object]:
    pairs: dict[str, object] = {}
    for key in ("name", "id_number", "village", "phone"):
        if key in slots:
            pairs[key] = str(slots[key])
    if "size" in slots:
        pairs["size"] = int(slots["size"])
    if "risks" in slots:
        pairs["risks"] = tuple(sorted(slots["risks"], key=risk_order.index))
    for key in ("income", "expense"):
        amount = _amount(slots, key)
        if amount is not None:
            pairs[key] = amount
    return pairs


def raw(name: str) -> list[dict[str, Any]]:
    entries = yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))
    assert isinstance(entries, list), f"{name}: a list of messages"
    return entries


def load(name: str, config: Config) -> list[Entry]:
    order = list(config.risk_types)
    return [Entry(text=e["text"], expecting=e["expecting"], intent=Intent(e["intent"]),
                  pairs=_pairs(e.get("slots") or {}, order), faq=e.get("faq"),
                  edit=e.get("edit"), wrong_id=bool(e.get("wrong_id")))
            for e in raw(name)]


def vocabulary(config: Config) -> Vocabulary:
    """What the bot gives the reader: the villages of the places, the risk types, the FAQ."""
    return Vocabulary(
        villages=tuple(v for township in config.places.townships for v in township.villages),
        risk_types=dict(config.risk_types),
        faq=tuple(FaqEntry(f.key, tuple(f.questions), f.answer) for f in config.chat.faq))


def given(slots: Slots) -> dict[str, object]:
    """The scored slots a reading filled (the difficulty's text is not scored)."""
    filled = slots.filled()
    filled.pop("difficulty", None)
    if "risks" in filled:
        filled["risks"] = tuple(filled["risks"])  # type: ignore[arg-type]
    return filled


def intent_right(entry: Entry, reading: Reading) -> bool:
    if reading.intent != entry.intent:
        return False
    if entry.intent == Intent.QUESTION:
        return reading.faq == entry.faq
    if entry.intent == Intent.EDIT:
        return reading.edit == entry.edit
    return True


@dataclass
class Score:
    messages: int = 0
    intents_right: int = 0
    pairs_expected: int = 0
    pairs_right: int = 0
    spurious: int = 0
    by_intent: Counter[str] = field(default_factory=Counter)
    missed: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))  # expected intent → what was read
    failures: list[str] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intents_right / self.messages if self.messages else 0.0

    @property
    def slot_accuracy(self) -> float:
        total = self.pairs_expected + self.spurious
        return self.pairs_right / total if total else 1.0

    def report(self) -> str:
        lines = [
            f"corpus: {self.messages} messages",
            f"intent accuracy: {self.intent_accuracy:.1%} "
            f"({self.intents_right}/{self.messages}), target {TARGET:.0%}",
            f"slot accuracy:   {self.slot_accuracy:.1%} ({self.pairs_right}/"
            f"{self.pairs_expected} expected + {self.spurious} spurious), target {TARGET:.0%}",
            "per intent (messages, missed: read as):",
        ]
        for intent in Intent:
            n = self.by_intent[intent.value]
            missed = self.missed.get(intent.value, Counter())
            as_what = ", ".join(f"{k} ×{v}" for k, v in missed.most_common())
            lines.append(f"  {intent.value:<10} {n:>4}  missed {sum(missed.values()):>3}"
                         + (f": {as_what}" if as_what else ""))
        lines.append(f"failures: {len(self.failures)} "
                     f"(the first {min(len(self.failures), SHOWN_FAILURES)}):")
        lines += self.failures[:SHOWN_FAILURES]
        return "\n".join(lines)


def _shown(intent: str, faq: str | None, edit: str | None, pairs: Mapping[str, object]) -> str:
    extra = f" faq={faq}" if faq else ""
    extra += f" edit={edit}" if edit else ""
    return f"{intent}{extra} {dict(pairs)}"


def score(entries: Iterable[Entry], reader: Reader) -> Score:
    result = Score()
    for entry in entries:
        result.messages += 1
        result.by_intent[entry.intent.value] += 1
        try:
            reading = reader(entry.text, entry.expecting)
        except NotImplementedError:
            raise
        except Exception as error:  # the contract: it never raises on what a person may type
            reading = Reading(Intent.UNKNOWN, problems=(f"raised {error!r}",))
        got = given(reading.slots)
        intent_ok = intent_right(entry, reading)
        right = sum(1 for k, v in entry.pairs.items() if got.get(k) == v)
        extra = [k for k in got if k not in entry.pairs]
        result.intents_right += intent_ok
        result.pairs_expected += len(entry.pairs)
        result.pairs_right += right
        result.spurious += len(extra)
        if not intent_ok:
            shown = reading.intent.value
            if reading.intent == entry.intent:  # the right intent, the wrong entry or slot
                shown += f"({reading.faq or reading.edit})"
            result.missed[entry.intent.value][shown] += 1
        if not intent_ok or right < len(entry.pairs) or extra:
            result.failures.append(
                f"- {entry.text!r} (expecting {entry.expecting})\n"
                f"    expected {_shown(entry.intent.value, entry.faq, entry.edit, entry.pairs)}\n"
                f"    got      {_shown(reading.intent.value, reading.faq, reading.edit, got)}"
                + (f" problems={list(reading.problems)}" if reading.problems else ""))
    return result


def _held_out(config: Config, capsys: pytest.CaptureFixture[str]) -> tuple[Score, str]:
    words = vocabulary(config)

    def reader(text: str, expecting: str | None) -> Reading:
        return read(text, expecting=expecting, vocabulary=words)

    result = score(load(HELD_OUT, config), reader)
    report = f"held out ({HELD_OUT}):\n" + result.report()
    # The sets the reader was tuned on: shown so a change that loses them is seen, not gated
    # (a figure on what was tuned on says little about the next farmer).
    tuned = [score(load(name, config), reader) for name in TUNING]
    shown = "\n".join(
        f"tuning set {name}: {s.messages} messages, intents {s.intent_accuracy:.1%}, "
        f"slots {s.slot_accuracy:.1%} (no gate)" for name, s in zip(TUNING, tuned, strict=True))
    with capsys.disabled():  # the figures are the point: shown on every run, not only failures
        print("\n" + report + "\n" + shown)
    return result, report


def test_the_reader_keeps_what_it_understands(config: Config,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """No change may make the reader understand less of the held-out set than today."""
    result, report = _held_out(config, capsys)
    assert result.intent_accuracy >= MEASURED[0], report
    assert result.slot_accuracy >= MEASURED[1], report


@pytest.mark.xfail(strict=True, reason="issue #22: 95% not reached on blind.yaml yet "
                   "(85.9% intents, 92.3% slot values); strict: passing fails until this "
                   "marker goes")
def test_the_reader_understands_what_farmers_send(config: Config,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    result, report = _held_out(config, capsys)
    assert result.intent_accuracy >= TARGET and result.slot_accuracy >= TARGET, report


# ---- The measurement itself: the corpus is sound and the scorer counts right ----

def _ids_in(text: str) -> list[str]:
    return [c for c in (m.replace(" ", "").upper() for m in ID_LIKE.findall(text))
            if len(c) in (17, 18)]


@pytest.mark.parametrize("name", ALL)
def test_the_corpus_is_sound(name: str, config: Config) -> None:
    entries = raw(name)
    villages = set(vocabulary(config).villages)
    problems: list[str] = []

    def wrong(entry: dict[str, Any], what: str) -> None:
        problems.append(f"{entry.get('text')!r}: {what}")

    for e in entries:
        slots = e.get("slots") or {}
        if set(e) - ENTRY_KEYS or set(slots) - SLOT_KEYS:
            wrong(e, f"unknown keys {sorted((set(e) - ENTRY_KEYS) | (set(slots) - SLOT_KEYS))}")
        if not isinstance(e.get("text"), str) or not e["text"].strip():
            wrong(e, "no text")
            continue
        if e.get("expecting") not in EXPECTING:
            wrong(e, f"expecting {e.get('expecting')!r}")
        if e.get("intent") not in {i.value for i in Intent}:
            wrong(e, f"intent {e.get('intent')!r}")
        if (e.get("intent") == "question") != ("faq" in e):
            wrong(e, "a question names its FAQ entry, and only a question")
        if "edit" in e and (e.get("intent") != "edit" or e["edit"] not in SLOT_ORDER):
            wrong(e, f"edit {e['edit']!r}")
        if "village" in slots and slots["village"] not in villages:
            wrong(e, f"village {slots['village']} is not in config.yaml places")
        if set(slots.get("risks", [])) - set(config.risk_types):
            wrong(e, f"risk types {slots['risks']} not all in config.yaml risk_types")
        if "size" in slots and not 1 <= slots["size"] <= 30:
            wrong(e, f"size {slots['size']}")
        if "phone" in slots and not PHONE.fullmatch(str(slots["phone"])):
            wrong(e, f"phone {slots['phone']}")
        for key in ("income", "expense"):
            flags = {k for k in slots if k.startswith(f"{key}_")}
            if (flags and key not in slots) or any(slots[k] is not True for k in flags):
                wrong(e, f"{key}'s flags without it, or not true")
        typed = _ids_in(e["text"])
        expected_id = slots.get("id_number")
        if expected_id is not None:
            if not (isinstance(expected_id, str) and ric.is_valid(expected_id)
                    and expected_id == expected_id.upper()):
                wrong(e, f"id_number {expected_id} is not a valid ID number (X upper-case)")
            if expected_id not in typed:
                wrong(e, "id_number not in the text")
        bad = [t for t in typed if not (len(t) == 18 and ric.is_valid(t))]
        if e.get("wrong_id"):
            if not bad or expected_id is not None:
                wrong(e, "wrong_id: a wrong ID number in the text, none expected")
        elif bad:
            wrong(e, f"ID numbers with a wrong check digit {bad} (wrong_id: true if meant)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ALL)
def test_every_question_of_the_corpus_has_its_entry_in_config(name: str, config: Config) -> None:
    """The questions are answered from config.yaml `chat.faq`: each key the corpus names is
    there (the entries themselves are the bot's to write)."""
    named = {e["faq"] for e in raw(name) if "faq" in e}
    missing = sorted(named - {f.key for f in config.chat.faq})
    assert not missing, f"config.yaml chat.faq has no entry {', '.join(missing)}"


def test_the_sets_are_apart() -> None:
    """A message of the held-out set that the reader was tuned on would measure the tuning."""
    held_out, messages, dev = raw(HELD_OUT), raw("messages.yaml"), raw("dev.yaml")
    spent = raw("holdout.yaml")
    assert len(held_out) >= 330 and len(spent) >= 330 and len(messages) >= 300
    assert len(dev) >= 80
    tuned = {e["text"] for e in messages + dev + spent}
    assert not [e["text"] for e in held_out if e["text"] in tuned], \
        f"{HELD_OUT} repeats messages of the tuning sets"
    said = {e["text"] for e in messages}
    assert not [e["text"] for e in dev if e["text"] in said], "dev.yaml repeats messages.yaml"


@pytest.mark.parametrize("name", [HELD_OUT, "holdout.yaml", "messages.yaml"])
def test_the_corpus_covers_what_farmers_do(name: str, config: Config) -> None:
    entries = raw(name)
    assert len({(e["text"], e["expecting"]) for e in entries}) == len(entries), "repeats"
    intents = Counter(e["intent"] for e in entries)
    assert all(intents[i.value] >= 8 for i in Intent), intents
    faqs = Counter(e["faq"] for e in entries if "faq" in e)
    assert all(faqs[key] >= 4 for key in set(faqs) | {f.key for f in config.chat.faq}), faqs
    slots = Counter(k for e in entries for k in e.get("slots") or {})
    assert all(slots[k] >= 8 for k in ("name", "id_number", "village", "size", "risks",
                                       "income", "income_approximate", "expense", "phone"))
    assert {e["expecting"] for e in entries} == EXPECTING


def _perfect(entries: list[Entry]) -> Reader:
    """A reader that knows the answers: what a right reading of each message looks like."""
    by_message = {(e.text, e.expecting): e for e in entries}

    def reader(text: str, expecting: str | None) -> Reading:
        e = by_message[(text, expecting)]
        p = dict(e.pairs)
        slots = Slots(name=p.get("name"), id_number=p.get("id_number"),  # type: ignore[arg-type]
                      village=p.get("village"), size=p.get("size"),  # type: ignore[arg-type]
                      difficulty=e.text, risks=p.get("risks", ()),  # type: ignore[arg-type]
                      income=p.get("income"), expense=p.get("expense"),  # type: ignore[arg-type]
                      phone=p.get("phone"))  # type: ignore[arg-type]
        return Reading(e.intent, slots, faq=e.faq, edit=e.edit)
    return reader


@pytest.mark.parametrize("name", [HELD_OUT, "holdout.yaml", "messages.yaml"])
def test_the_scorer_gives_a_perfect_reader_full_marks_and_counts_every_slip(
        name: str, config: Config) -> None:
    entries = load(name, config)
    perfect = _perfect(entries)
    full = score(entries, perfect)
    assert (full.intent_accuracy, full.slot_accuracy, full.failures) == (1.0, 1.0, [])

    def slipping(text: str, expecting: str | None) -> Reading:
        """Right, except: every question gets the wrong FAQ entry, every income loses its
        approximation, and every answer also gives a size of 1."""
        r = perfect(text, expecting)
        slots = r.slots
        if slots.income is not None:
            slots.income = Amount(slots.income.value, False, slots.income.monthly)
        if r.intent == Intent.ANSWER and slots.size is None:
            slots.size = 1
        return Reading(r.intent, slots, faq="no_such_entry" if r.faq else None, edit=r.edit)

    slips = score(entries, slipping)
    questions = sum(e.intent == Intent.QUESTION for e in entries)
    approximate = sum(isinstance(a, Amount) and a.approximate
                      for e in entries for k, a in e.pairs.items() if k == "income")
    sizes_added = sum(e.intent == Intent.ANSWER and "size" not in e.pairs for e in entries)
    assert slips.intents_right == len(entries) - questions
    assert slips.pairs_right == full.pairs_expected - approximate
    assert slips.spurious == sizes_added
    assert slips.missed["question"] == Counter({"question(no_such_entry)": questions})
    assert f"question(no_such_entry) ×{questions}" in slips.report()
    assert len(slips.report().split("\n- ")) == SHOWN_FAILURES + 1  # the first 40, listed

    def raising(text: str, expecting: str | None) -> Reading:
        raise ValueError("boom")

    broken = score(entries[:3], raising)
    assert broken.intents_right == 0 and "raised ValueError" in broken.failures[0]
