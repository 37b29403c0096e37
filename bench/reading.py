"""Reading farmers' messages: FAQ matchers compared (accuracy and time) and the time of one
`bot.reading.read` call.

    .venv/bin/python bench/reading.py      # needs jieba for the comparison (pip install jieba)

The FAQ is config.yaml's `chat.faq`; the questions are bench/faq_dev.yaml (written apart
from the FAQ's own ways of asking; `null` are messages that ask none of them: answers,
commands, greetings). Two measures per matcher:
- alone: the threshold swept, the best accuracy kept (a question matched to its key, a
  `null` message to nothing), and top-1 (the right key first among questions);
- in `read` (the matcher plugged into the reader at that threshold): a question read as
  QUESTION with its key, a `null` message not read as a question.
Times are per message after warm-up, the median of 5 passes.
"""

from __future__ import annotations

import logging
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.reading import FaqEntry, Intent, Vocabulary, read  # noqa: E402
from bot.reading import faq as reading_faq  # noqa: E402
from fangfan.config import load  # noqa: E402

Scorer = Callable[[str], "reading_faq.Match | None"]
STOPWORDS = frozenset(
    "吗 呢 啊 吧 呀 么 嘛 哦 哈 啦 了 的 地 得 着 过 是 就 都 也 还 又 在 和 跟 与 及 给 让 被 把 "
    "我 我们 我家 咱 咱们 俺 俺家 你 你们 您 他 她 它 这 那 这个 那个 这样 那样 请问 问 问一下 "
    "一下 下 想 想问 知道 告诉 请 麻烦 谢谢 好 一个 个 些 有点 一点".split())


class JiebaIndex:
    """Words: jieba's segmentation, stopwords dropped, each word weighted by how few
    entries use it (idf over the entries); score = weighted Dice with the closest question."""

    def __init__(self, entries: Iterable[FaqEntry], *, like_kept: bool = False) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        self.cut = jieba.lcut
        # like_kept: the kept matcher's synonyms and anchors too, so only the scoring differs
        self.like_kept = like_kept
        asked = [(e.key, frozenset(self.words(q))) for e in entries for q in e.questions]
        documents: dict[str, set[str]] = {}
        for key, ws in asked:
            documents.setdefault(key, set()).update(ws)
        n = max(len(documents), 1)
        self.idf = {w: math.log(1 + n / sum(w in d for d in documents.values()))
                    for d in documents.values() for w in d}
        self.unseen = math.log(1 + n)
        self.asked = [(key, ws, self.weight(ws)) for key, ws in asked if ws]

    def words(self, text: str) -> list[str]:
        if self.like_kept:
            text = reading_faq.clean(text)
        return [w for w in self.cut(text) if w.strip(" ?？!！。，,.") and w not in STOPWORDS]

    def weight(self, ws: Iterable[str]) -> float:
        return sum(self.idf.get(w, self.unseen) for w in ws)

    def best(self, text: str) -> reading_faq.Match | None:
        said = frozenset(self.words(text))
        if not said:
            return None
        said_weight = self.weight(said)
        scores: dict[str, float] = {}
        for k, ws, weight in self.asked:
            scores[k] = max(scores.get(k, 0.0), 2 * self.weight(said & ws) / (said_weight + weight))
        if self.like_kept:
            cleaned = reading_faq.clean(text)
            for k in scores:
                if any(a in cleaned for a in reading_faq.ANCHORS.get(k, ())):
                    scores[k] += reading_faq.ANCHOR_BONUS
        key = max(scores, key=lambda k: scores[k])
        return reading_faq.Match(key, min(scores[key], 1.0))


class RapidfuzzIndex:
    """Characters, cleaned as bot/reading/faq.py cleans them, with another rapidfuzz scorer."""

    def __init__(self, entries: Iterable[FaqEntry], scorer: Callable[..., float]) -> None:
        self.keys = [e.key for e in entries for _ in e.questions]
        self.choices = [reading_faq.clean(q) for e in entries for q in e.questions]
        self.scorer = scorer

    def best(self, text: str) -> reading_faq.Match | None:
        found = process.extractOne(reading_faq.clean(text), self.choices, scorer=self.scorer)
        return reading_faq.Match(self.keys[found[2]], found[1] / 100) if found else None


def alone(scorer: Scorer, dev: list[tuple[str, str | None]]) -> tuple[float, float, float]:
    """Best accuracy, its threshold, top-1 among questions."""
    scored = [(expected, scorer(text)) for text, expected in dev]
    best_accuracy, best_threshold = 0.0, 0.0
    for step in range(20, 96):
        threshold = step / 100
        right = sum((m.key if m is not None and m.score >= threshold else None) == expected
                    for expected, m in scored)
        if right / len(dev) > best_accuracy:
            best_accuracy, best_threshold = right / len(dev), threshold
    asked = [(e, m) for e, m in scored if e is not None]
    top1 = sum(m is not None and m.key == e for e, m in asked) / len(asked)
    return best_accuracy, best_threshold, top1


def per_message(run: Callable[[str], object], texts: list[str]) -> float:
    passes = []
    for _ in range(5):
        start = time.perf_counter()
        for text in texts:
            run(text)
        passes.append((time.perf_counter() - start) / len(texts))
    return statistics.median(passes)


def in_read(index: object, threshold: float, vocabulary: Vocabulary,
            dev: list[tuple[str, str | None]]) -> float:
    original_index, original_threshold = reading_faq.index, reading_faq.THRESHOLD
    reading_faq.index = lambda entries: index  # type: ignore[assignment,return-value]
    reading_faq.match.__kwdefaults__["threshold"] = threshold
    try:
        right = 0
        for text, expected in dev:
            r = read(text, expecting=None, vocabulary=vocabulary)
            if expected is None:
                right += r.intent is not Intent.QUESTION or r.faq is None
            else:
                right += r.intent is Intent.QUESTION and r.faq == expected
        return right / len(dev)
    finally:
        reading_faq.index = original_index
        reading_faq.match.__kwdefaults__["threshold"] = original_threshold


def main() -> None:
    config = load(ROOT / "config.yaml")
    entries = tuple(FaqEntry(f.key, tuple(f.questions), f.answer) for f in config.chat.faq)
    vocabulary = Vocabulary(villages=("东沟村", "西坡村", "南滩村", "北岭村"),
                            risk_types=dict(config.risk_types), faq=entries)
    raw = yaml.safe_load((ROOT / "bench" / "faq_dev.yaml").read_text(encoding="utf-8"))
    dev = [(str(text), None if key in (None, "null") else key)
           for key, texts in raw.items() for text in texts]
    texts = [text for text, _ in dev]
    print(f"{len(dev)} messages, {sum(k is not None for _, k in dev)} of them FAQ questions")
    start = time.perf_counter()
    jieba_index = JiebaIndex(entries)
    print(f"jieba: dictionary load and index {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    reading_faq.index(entries).best("warm")
    print(f"rapidfuzz: index {(time.perf_counter() - start) * 1e3:.1f} ms")
    matchers: list[tuple[str, object]] = [
        ("jieba words, weighted Dice", jieba_index),
        ("jieba + synonyms, anchors", JiebaIndex(entries, like_kept=True)),
        ("rapidfuzz ratio (kept)", reading_faq.index(entries)),
        ("rapidfuzz WRatio", RapidfuzzIndex(entries, fuzz.WRatio)),
        ("rapidfuzz partial_ratio", RapidfuzzIndex(entries, fuzz.partial_ratio)),
        ("rapidfuzz token_set_ratio", RapidfuzzIndex(entries, fuzz.token_set_ratio)),
    ]
    print(f"{'matcher':28} {'alone':>7} {'at':>5} {'top-1':>7} {'in read':>8} {'µs/msg':>8}")
    for name, index in matchers:
        accuracy, threshold, top1 = alone(index.best, dev)  # type: ignore[attr-defined]
        end_to_end = in_read(index, threshold, vocabulary, dev)
        micros = per_message(index.best, texts) * 1e6  # type: ignore[attr-defined]
        print(f"{name:28} {accuracy:7.1%} {threshold:5.2f} {top1:7.1%} {end_to_end:8.1%} "
              f"{micros:8.1f}")
    for expecting in (None, "who", "income", "difficulty", "confirm"):
        micros = per_message(lambda t, e=expecting: read(t, expecting=e, vocabulary=vocabulary),
                             texts) * 1e6
        print(f"read(expecting={expecting!s:10}) {micros:7.1f} µs/message")


if __name__ == "__main__":
    main()
