"""Before a sixth numeral table: cn2an, jionlp's money and time parsers and rapidfuzz, measured.

    python -m venv /tmp/libvenv && /tmp/libvenv/bin/pip install cn2an jionlp rapidfuzz
    PYTHONPATH=. /tmp/libvenv/bin/python bench/numeral_libs.py          # tables; --json for JSON

None of the three is a dependency of the project: this script imports each only if it is installed
and says so when it is not.  It collects every Chinese-numeral quantity in ../shared/corpus
(public/*.txt, seeds/*.txt) and corpus/ (the repository's seeds) — a numeral followed by a measure
word, 百分之…, …分之…, …成 — and reads the numerals with ``cn2an.cn2an(s, "smart")`` and with
``drafting.numerals.cn_to_int``.  Disagreements are listed with a verdict (``JUDGED``, written by hand
after reading each one in its context).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval import PUBLIC, SHARED, table

from drafting.numerals import cn_to_int

try:
    import cn2an
except ImportError:  # pragma: no cover - depends on the venv
    cn2an = None
try:
    import jionlp
except ImportError:  # pragma: no cover
    jionlp = None
try:
    from rapidfuzz import fuzz
except ImportError:  # pragma: no cover
    fuzz = None

NUMERAL = "零〇○一二两三四五六七八九十百千万亿"
MEASURE = (
    "个", "项", "家", "条", "批", "次", "年", "成", "类", "座", "所", "处", "件", "名", "支", "套", "户",
    "栋", "幢", "大", "张", "种", "部", "轮", "片", "场", "天", "周", "倍", "方面", "台", "辆", "篇", "份",
    "人", "位", "元", "亩", "吨", "公里", "米", "平方米", "间", "层", "级", "期", "季度", "月", "日", "届",
    "番", "遍", "步", "点",
)  # fmt: skip
_MEASURE_RE = "|".join(sorted(MEASURE, key=len, reverse=True))
QUANTITY_RE = re.compile(
    rf"百分之(?P<pct>[{NUMERAL}点]+)"
    rf"|(?P<den>[{NUMERAL}]+)分之(?P<num>[{NUMERAL}]+)"
    rf"|(?<![{NUMERAL}第0-9.０-９])(?P<n>[{NUMERAL}]+)(?P<unit>{_MEASURE_RE})"
)

# Verdicts on the disagreements seen on the corpus, written after reading each in context.
JUDGED: dict[str, str] = {
    "零": "cn_to_int (None): 零部件 is no quantity; cn2an reads 0",
    "二三": "cn_to_int (None): 二三级供水管网 = grades 2 and 3, not 23 as cn2an reads",
    "一二": "cn_to_int (None): 一二级保护区 = grades 1 and 2, not 12 as cn2an reads",
    "三万五": "cn2an for the value (35000); cn_to_int rejects colloquial forms on purpose",
    "一百五": "cn2an for the value (150); cn_to_int rejects colloquial forms on purpose",
}


def verdict(s: str) -> str:
    if s in JUDGED:
        return JUDGED[s]
    if len(s) == 4 and all(ch in "零〇○一二三四五六七八九" for ch in s):
        return "cn_to_int (None) for a quantity: a year read digit by digit (cn_digits_to_int reads it)"
    return "(not judged)"


def corpus_files() -> list[Path]:
    files = sorted(PUBLIC.glob("*.txt")) + sorted((SHARED / "corpus" / "seeds").glob("*.txt"))
    return files + sorted((ROOT / "corpus").glob("*.txt"))


def collect() -> tuple[Counter[str], Counter[str], dict[str, str]]:
    """Quantity strings (e.g. 三项, 百分之三十) and the numerals in them, with one context each."""
    quantities: Counter[str] = Counter()
    numerals: Counter[str] = Counter()
    context: dict[str, str] = {}
    for path in corpus_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in QUANTITY_RE.finditer(text):
            quantities[m.group()] += 1
            for part in (m.group("pct"), m.group("den"), m.group("num"), m.group("n")):
                if part and "点" not in part:
                    numerals[part] += 1
                    context.setdefault(part, text[max(0, m.start() - 12) : m.end() + 8].replace("\n", " "))
    return quantities, numerals, context


def _cn2an(s: str) -> int | float | None:
    assert cn2an is not None
    try:
        return cn2an.cn2an(s, "smart")
    except (ValueError, KeyError, IndexError):
        return None


def compare_cn2an(numerals: Counter[str], context: dict[str, str]) -> dict[str, Any]:
    rows = []
    agree = agree_occ = both_none = both_none_occ = 0
    for s, n in numerals.most_common():
        a, b = _cn2an(s), cn_to_int(s)
        if a == b:
            agree += 1
            agree_occ += n
            if a is None:
                both_none += 1
                both_none_occ += n
        else:
            rows.append({"numeral": s, "count": n, "cn2an": a, "cn_to_int": b, "context": context[s],
                         "verdict": verdict(s)})  # fmt: skip
    t = time.perf_counter()
    reps = 0
    for _ in range(5):
        for s in numerals:
            _cn2an(s)
            reps += 1
    cn2an_us = (time.perf_counter() - t) / reps * 1e6
    t = time.perf_counter()
    for _ in range(5):
        for s in numerals:
            cn_to_int(s)
    ours_us = (time.perf_counter() - t) / reps * 1e6
    return {
        "distinct": len(numerals),
        "occurrences": sum(numerals.values()),
        "agree_distinct": agree,
        "agree_occurrences": agree_occ,
        "agree_both_reject_distinct": both_none,
        "agree_both_reject_occurrences": both_none_occ,
        "disagreements": rows,
        "cn2an_us_per_call": round(cn2an_us, 1),
        "cn_to_int_us_per_call": round(ours_us, 1),
    }


def transform_forms(quantities: Counter[str]) -> list[tuple[str, str]]:
    """What ``cn2an.transform`` makes of the percent / fraction / 成 forms found in the corpus."""
    assert cn2an is not None
    forms = [q for q in quantities if q.startswith("百分之") or "分之" in q or q.endswith("成")]
    out = []
    for q in sorted(forms, key=lambda x: -quantities[x])[:12]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append((q, cn2an.transform(q, "cn2an")))
        except ValueError as e:  # pragma: no cover - depends on the library
            out.append((q, f"ValueError: {e}"))
    return out


PERIODS = ["上半年", "1-10月", "9月底前", "到2027年", "前三季度", "一季度", "全年", "今年以来",
           "2023年11月6日",
           "“十四五”期间", "2025年底前"]  # fmt: skip
AMOUNTS = ["3.2亿元", "10万元", "1,234元", "三千万元", "约3亿元", "12亿美元", "1.2万个", "5020万人次",
           "增长5%", "3.2亿"]


def _timed(fn: Any, arg: str, reps: int = 50) -> tuple[Any, float]:
    try:
        result = fn(arg)
    except Exception as e:  # noqa: BLE001 - report whatever the library raises
        result = f"{type(e).__name__}: {str(e)[:70]}"
    t = time.perf_counter()
    for _ in range(reps):
        try:
            fn(arg)
        except Exception:  # noqa: BLE001, S112
            continue
    return result, (time.perf_counter() - t) / reps * 1e6


def jionlp_rows() -> dict[str, Any]:
    assert jionlp is not None
    base = {"year": 2023, "month": 12, "day": 1}
    times, money = [], []
    for s in PERIODS:
        r, us = _timed(lambda x: jionlp.parse_time(x, time_base=base), s)
        times.append([s, json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r, f"{us:.0f}"])
    for s in AMOUNTS:
        r, us = _timed(jionlp.parse_money, s)
        money.append([s, json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r, f"{us:.0f}"])
    return {"parse_time": times, "parse_money": money}


INDICATORS = [
    ("房地产开发投资", "完成房地产开发投资"),
    ("房地产开发投资", "城建重点项目投资"),
    ("保障性租赁住房", "保租房"),
    ("城镇老旧小区改造", "老旧小区改造"),
    ("新开工公租房", "筹集保障性租赁住房"),
    ("城镇化率", "城市污水集中收集率"),
]


def rapidfuzz_rows() -> dict[str, Any]:
    assert fuzz is not None
    rows = [[a, b, f"{fuzz.ratio(a, b):.0f}", f"{fuzz.partial_ratio(a, b):.0f}"] for a, b in INDICATORS]
    t = time.perf_counter()
    for _ in range(2000):
        fuzz.partial_ratio("完成房地产开发投资", "城建重点项目投资")
    return {"pairs": rows, "us_per_call": round((time.perf_counter() - t) / 2000 * 1e6, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    quantities, numerals, context = collect()
    out: dict[str, Any] = {
        "files": len(corpus_files()),
        "quantity_strings_distinct": len(quantities),
        "quantity_occurrences": sum(quantities.values()),
        "installed": {"cn2an": cn2an is not None, "jionlp": jionlp is not None,
                      "rapidfuzz": fuzz is not None},
    }
    if cn2an is not None:
        out["cn2an"] = compare_cn2an(numerals, context)
        out["cn2an_transform"] = transform_forms(quantities)
    if jionlp is not None:
        out["jionlp"] = jionlp_rows()
    if fuzz is not None:
        out["rapidfuzz"] = rapidfuzz_rows()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1, default=str))
        return 0
    print(f"{out['files']} corpus files: {out['quantity_occurrences']} Chinese-numeral quantities, "
          f"{out['quantity_strings_distinct']} distinct strings")  # fmt: skip
    for name, ok in out["installed"].items():
        if not ok:
            print(f"{name}: NOT INSTALLED in this interpreter ({sys.executable}): its part is skipped")
    if "cn2an" in out:
        c = out["cn2an"]
        print(f"\ncn2an.cn2an(s, 'smart') vs drafting.numerals.cn_to_int on {c['distinct']} distinct "
              "numerals "
              f"({c['occurrences']} occurrences): agree on {c['agree_distinct']} distinct "
              f"({c['agree_occurrences']} occurrences; of these both reject "
              f"{c['agree_both_reject_distinct']} distinct, "
              f"{c['agree_both_reject_occurrences']} occurrences); {len(c['disagreements'])} disagree.  "
              f"Cost per call: cn2an {c['cn2an_us_per_call']} µs, "
              f"cn_to_int {c['cn_to_int_us_per_call']} µs")  # fmt: skip
        rows = [[d["numeral"], d["count"], d["cn2an"], d["cn_to_int"], d["context"], d["verdict"]]
                for d in c["disagreements"]]  # fmt: skip
        if rows:
            print(table(rows, ["numeral", "n", "cn2an", "cn_to_int", "context", "who is right"]))
        print("\ncn2an.transform(s, 'cn2an') on percent / fraction / 成 forms:")
        print(table([list(r) for r in out["cn2an_transform"]], ["corpus string", "transform"]))
    if "jionlp" in out:
        j = out["jionlp"]
        print("\njionlp.parse_time (time_base 2023-12-01):")
        print(table(j["parse_time"], ["phrase", "result", "µs/call"]))
        print("\njionlp.parse_money:")
        print(table(j["parse_money"], ["string", "result", "µs/call"]))
    if "rapidfuzz" in out:
        r = out["rapidfuzz"]
        print(f"\nrapidfuzz on indicator names ({r['us_per_call']} µs per partial_ratio call):")
        print(table(r["pairs"], ["a", "b", "ratio", "partial_ratio"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
