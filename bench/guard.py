"""Planted-error benchmark for the figure/fact guard.  Prints tables; results go in docs/benchmarks.md.

    python bench/guard.py                 # both guards, every dev case
    python bench/guard.py --limit 20      # the first 20 cases
    python bench/guard.py --json          # the same numbers as JSON
    python bench/guard.py --examples 3    # also print 3 plants per class (caught or not)

For each case of ../shared/eval/dev-cases.jsonl the writer's notes are ``provided = "\\n".join(bullets)``
and the clean draft is the real passage ``reference``.

* False alarm: the clean passage has at least one finding.
* Plants: a variant of the passage with exactly one planted error (see ``PLANTERS``), at most
  ``--per-case`` (3) per class per case, chosen with a fixed seed.  Plants act on the text of the
  bullet clauses inside the passage (figures the writer gave) unless the class says otherwise.
* Caught: the variant's findings hold a finding whose ``key()`` the clean passage's findings do not
  (multisets of keys).  ``必查`` counts the caught plants where such a new finding is ``必查``.

The project's guard is ``drafting.guard.check_figures(draft, provided).findings()``; gongwen's is the
port in bench/gongwen_guard.py, run with original = the bullets, rewritten = the passage.  gongwen
has no severity: every change it finds needs the user's explicit confirmation, so all its findings
count as 必查.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gongwen_guard
from retrieval import CASES, table

SEED = 20261128
BLOCKING = "必查"

# ------------------------------------------------------------------------------------------
# small text helpers (the bench keeps its own, so that it measures drafting/ rather than reuses it)

NUM = r"[0-9]+(?:\.[0-9]+)?"
_UNITS = (
    "万人次", "人次", "万人", "人", "亿元", "万元", "元", "万户", "户", "万套", "套", "个百分点", "%",
    "万平方米", "平方米", "公顷", "万亩", "亩", "公里", "千米", "米", "万吨", "吨", "家", "项", "个", "座",
    "处", "件", "栋", "幢", "条", "辆", "台", "所", "次", "场", "批", "类", "名", "支", "张", "种", "片",
    "宗", "块", "间",
)  # fmt: skip
UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
FIG_RE = re.compile(rf"(?<![0-9.])(?P<num>{NUM})(?P<unit>{UNIT_RE})")
CN_RE_CHARS = "一二两三四五六七八九十百千万"
_MEASURE = (
    "个", "项", "家", "条", "批", "次", "年", "成", "类", "座", "所", "处", "件", "名", "支", "套", "户",
    "栋", "幢", "大", "张", "种", "部", "轮", "片", "场", "天", "周", "倍", "方面", "万", "千", "百", "支",
    "台", "辆", "篇", "份",
)  # fmt: skip
MEASURE_RE = "|".join(re.escape(u) for u in sorted(set(_MEASURE), key=len, reverse=True))
CN_QTY_RE = re.compile(rf"(?<![第{CN_RE_CHARS}])(?P<num>[{CN_RE_CHARS}]+?)(?P<unit>{MEASURE_RE})")
SET_PHRASES = (
    "十四五", "十三五", "十五五", "十二五", "两个确立", "两个维护", "四个意识", "四个自信", "四个全面",
    "五位一体", "三农", "一带一路", "三个一批", "八项规定", "三条红线", "三会一课", "两学一做", "三严三实",
    "二十大", "十九大", "十八大", "二十届", "十九届", "四级三类", "五级三类", "一次性", "一批",
)  # fmt: skip
_CN_VAL = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_small(s: str) -> int | None:
    """1..99 written in Chinese numerals (三, 十二, 二十, 两); None otherwise."""
    if len(s) == 1 and s in _CN_VAL:
        return _CN_VAL[s]
    m = re.fullmatch(r"([二三四五六七八九])?十([一二三四五六七八九])?", s)
    if not m:
        return None
    return (_CN_VAL[m.group(1)] if m.group(1) else 1) * 10 + (_CN_VAL[m.group(2)] if m.group(2) else 0)


def int_cn(n: int, two: str = "两") -> str:
    digits = "〇一二三四五六七八九"
    if n == 2:
        return two
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def fmt_num(v: float, like: str) -> str:
    places = len(like.partition(".")[2])
    return f"{v:.{places}f}"


# ------------------------------------------------------------------------------------------
# plants


@dataclass
class Plant:
    cls: str
    variant: str
    what: str
    # cn_percent only: the rewritten clean pair the plant is compared against
    base_reference: str | None = None
    base_bullets: list[str] | None = None


@dataclass
class Case:
    id: str
    reference: str
    bullets: list[str]
    spans: list[tuple[int, int]]  # each bullet's place in the reference

    def in_bullets(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.spans)

    def finditer(self, pattern: re.Pattern[str] | str) -> Iterator[re.Match[str]]:
        """Matches of ``pattern`` inside the bullet clauses of the reference."""
        for m in re.finditer(pattern, self.reference):
            if self.in_bullets(*m.span()):
                yield m

    def replace(self, start: int, end: int, new: str) -> str:
        return self.reference[:start] + new + self.reference[end:]

    def boundaries(self) -> list[int]:
        """Places where a new sentence can go: after each 。, or the end."""
        out = [m.end() for m in re.finditer("。", self.reference)]
        return out or [len(self.reference)]

    def insert_sentence(self, rng: random.Random, sentence: str) -> str:
        at = rng.choice(self.boundaries())
        text = self.reference
        if at == len(text) and text and text[-1] not in "。！？；":
            return text + "。" + sentence
        return text[:at] + sentence + text[at:]


def make_case(c: dict[str, Any]) -> Case:
    spans, pos = [], 0
    for b in c["bullets"]:
        i = c["reference"].find(b, pos)
        if i < 0:
            i = c["reference"].find(b)
        if i >= 0:
            spans.append((i, i + len(b)))
            pos = i + len(b)
    return Case(c["id"], c["reference"], c["bullets"], spans)


def _is_date(text: str, start: int, end: int) -> bool:
    """A number that is a year, month or day or part of a document number, not a quantity."""
    after = text[end : end + 1]
    before = text[max(0, start - 1) : start]
    return (after in ("年", "月", "日", "号", "〕", "]", "］", "-", "—", "时")
        or before in ("〔", "[", "［", "-"))


def _label(text: str, start: int, end: int) -> bool:
    """附件4, 第3条, 5G, PM2.5, 国道318: a label or code, not a quantity."""
    before, after = text[max(0, start - 2) : start], text[end : end + 1]
    return before.endswith(("附件", "附表", "第", "国道", "省道")) or bool(
        re.match(r"[A-Za-z]", after + " ")) or bool(
        re.search(r"[A-Za-z]$", before)
    )


def _lead_marker(c: Case, start: int) -> bool:
    """``2.`` / ``3、`` opening a bullet: a list marker."""
    return (any(s == start for s, _e in c.spans)
        and re.match(r"[0-9]+[.、．]", c.reference[start:]) is not None)


# --- digit ---------------------------------------------------------------------------------
def plant_digit(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(NUM):
        if _is_date(c.reference, *m.span()) or _lead_marker(c, m.start()) or _label(c.reference, *m.span()):
            continue
        num = m.group()
        places = [i for i, ch in enumerate(num) if ch.isdigit()]
        i = rng.choice(places)
        choices = [d for d in "0123456789" if d != num[i]
                   and not (d == "0" and i == 0 and len(num) > 1 and num[1] != ".")]
        new = num[:i] + rng.choice(choices) + num[i + 1 :]
        yield Plant("digit", c.replace(m.start(), m.end(), new), f"{num}→{new}")


# --- removed -------------------------------------------------------------------------------
def _has_figure(clause: str) -> bool:
    body = re.sub(r"^(?:[0-9]+[.、．]|[（(][0-9]+[)）])", "", clause)
    if re.search(r"[0-9]", body):
        return True
    return any(cn_small(m.group("num")) and m.group("num") != "一" for m in CN_QTY_RE.finditer(body))


def plant_removed(c: Case, rng: random.Random) -> Iterator[Plant]:
    text = c.reference
    for (s, e), b in zip(c.spans, c.bullets, strict=False):
        if not _has_figure(b):
            continue
        if e < len(text) and text[e] in "，；、,;":
            s2, e2 = s, e + 1
        elif s > 0 and text[s - 1] in "，；、,;":
            s2, e2 = s - 1, e
        elif e < len(text) and text[e] in "。！？":
            s2, e2 = s, e + 1
        else:
            s2, e2 = s, e
        yield Plant("removed", text[:s2] + text[e2:], f"删去「{text[s2:e2]}」")


# --- invented_sentence ---------------------------------------------------------------------
_INVENTED = [
    ("全年新增城镇就业", "人", 1000, 9000, 0),
    ("新开工保障性租赁住房", "套", 500, 5000, 0),
    ("完成城镇老旧小区改造", "个", 20, 300, 0),
    ("完成房地产开发投资", "亿元", 10, 300, 1),
    ("城市生活垃圾无害化处理率达到", "%", 90, 99.9, 1),
    ("新增城市绿地面积", "万平方米", 10, 200, 1),
    ("改造老旧燃气管网", "公里", 20, 500, 1),
    ("发放住房公积金个人贷款", "亿元", 5, 80, 2),
    ("培训建筑业从业人员", "人次", 1000, 20000, 0),
    ("新建城市停车泊位", "个", 1000, 9000, 0),
    ("完成既有建筑节能改造", "万平方米", 5, 90, 1),
    ("全年办理施工许可", "件", 100, 900, 0),
]


def plant_invented(c: Case, rng: random.Random) -> Iterator[Plant]:
    provided = "\n".join(c.bullets)
    for indicator, unit, lo, hi, places in rng.sample(_INVENTED, len(_INVENTED)):
        if indicator[-4:] in c.reference:
            continue
        value = f"{rng.uniform(lo, hi):.{places}f}"
        if value in provided:
            continue
        sentence = f"{indicator}{value}{unit}。"
        yield Plant("invented_sentence", c.insert_sentence(rng, sentence), f"+「{sentence}」")


# --- scale ---------------------------------------------------------------------------------
_SCALE = {"万元": "亿元", "亿元": "万元", "万人": "人", "万平方米": "平方米", "万户": "户", "万套": "套",
          "万亩": "亩", "万吨": "吨"}


def plant_scale(c: Case, rng: random.Random) -> Iterator[Plant]:
    pattern = rf"(?<![0-9.])({NUM})({'|'.join(_SCALE)})"
    for m in c.finditer(pattern):
        new = m.group(1) + _SCALE[m.group(2)]
        yield Plant("scale", c.replace(m.start(), m.end(), new), f"{m.group()}→{new}")


# --- pct_pp --------------------------------------------------------------------------------
_CHANGE_VERB = r"(?:增长|提高|上升|增加|下降|降低|减少|回落|提升|下滑|扩大|缩小)(?:了|分别)?"


def plant_pct_pp(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(rf"(?<![0-9.])({NUM})个?百分点"):
        new = m.group(1) + "%"
        yield Plant("pct_pp", c.replace(m.start(), m.end(), new), f"{m.group()}→{new}")
    # % → 个百分点 only after a change verb (提高2% → 提高2个百分点), where a writer could confuse them
    for m in c.finditer(rf"{_CHANGE_VERB}({NUM})%"):
        new = m.group()[:-1] + "个百分点"
        yield Plant("pct_pp", c.replace(m.start(), m.end(), new), f"{m.group()}→{new}")


# --- cn_quantity ---------------------------------------------------------------------------
def _in_set_phrase(text: str, start: int, end: int) -> bool:
    for p in SET_PHRASES:
        for m in re.finditer(re.escape(p), text[max(0, start - 6) : end + 6]):
            s = max(0, start - 6) + m.start()
            if s < end and start < s + len(p):
                return True
    return False


def _in_quote(text: str, start: int) -> bool:
    before = text[max(0, start - 8) : start]
    return bool(re.search(r"[“「『\"][^”」』\"，。；]*$", before))


def _other_value(n: int, rng: random.Random, lo: int = 1, hi: int = 99) -> int:
    options = [v for v in (n - 1, n + 1, n + 2, n - 2) if lo <= v <= hi and v != n]
    return rng.choice(options)


def plant_cn_quantity(c: Case, rng: random.Random) -> Iterator[Plant]:
    text = c.reference
    for m in c.finditer(CN_QTY_RE):
        numeral, unit = m.group("num"), m.group("unit")
        n = cn_small(numeral)
        if n is None or numeral in ("一", "二") or _in_set_phrase(text,
                                                                  *m.span()) or _in_quote(text, m.start()):
            continue
        if unit in ("万", "千", "百"):
            continue  # 三万余人: a magnitude, not a measure word
        new_n = _other_value(n, rng, 1, 9 if unit == "成" else 99)
        new = int_cn(new_n)
        yield Plant("cn_quantity", c.replace(m.start(), m.start("unit"), new), f"{numeral}{unit}→{new}{unit}")


# --- date ----------------------------------------------------------------------------------
def plant_date(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(r"(?<![0-9〔\[［])((?:19|20)[0-9]{2})(?=年)"):
        new = str(int(m.group(1)) + rng.choice((-1, 1)))
        yield Plant("date", c.replace(*m.span(), new), f"{m.group()}年→{new}年")
    for m in c.finditer(r"(?<![0-9.])([0-9]{1,2})(?=月)"):
        month = int(m.group(1))
        if not 1 <= month <= 12:
            continue
        new_m = month - 1 if month > 1 else 2
        if m.start() > 0 and c.reference[m.start() - 1] in "-—~～至到":  # 1-10月: the range end
            start = re.search(r"([0-9]{1,2})\s*$", c.reference[: m.start() - 1])
            if start and int(start.group(1)) >= new_m:
                new_m = month + 1 if month < 12 else month
                if new_m == month:
                    continue
        yield Plant("date", c.replace(*m.span(), str(new_m)), f"{month}月→{new_m}月")
    for m in c.finditer(r"(?<=月)([0-9]{1,2})(?=日)"):
        day = int(m.group(1))
        new_d = day + rng.choice((-5, -1, 1, 5)) if 6 <= day <= 23 else (day + 1 if day < 28 else day - 1)
        yield Plant("date", c.replace(*m.span(), str(new_d)), f"{day}日→{new_d}日")


# --- swap ----------------------------------------------------------------------------------
def plant_swap(c: Case, rng: random.Random) -> Iterator[Plant]:
    figs = [m for m in c.finditer(FIG_RE) if not _is_date(c.reference, m.start(), m.end())]
    for i, a in enumerate(figs):
        for b in figs[i + 1 :]:
            if a.group("unit") != b.group("unit"):
                continue
            va, vb = float(a.group("num")), float(b.group("num"))
            if va == vb or min(va, vb) <= 0 or max(va, vb) / min(va, vb) > 10:
                continue
            text = c.reference
            new = (
                text[: a.start("num")] + b.group("num") + text[a.end("num") : b.start("num")]
                + a.group("num") + text[b.end("num") :]
            )  # fmt: skip
            yield Plant("swap", new, f"{a.group()}⇄{b.group()}")


# --- rank ----------------------------------------------------------------------------------
_RANK_RE = re.compile(
    r"(?:(?:全国|全省|全市|全区|全州|省内|市内|同类城市)[^，。；]{0,6}?|(?:居|位居|位列|排名|排|名列|列))"
    r"(?P<rank>第(?P<n>[0-9]+|[一二三四五六七八九十]+)|首位|首|前(?P<top>[0-9]+|[一二三四五六七八九十]+))"
)


def plant_rank(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(_RANK_RE):
        rank = m.group("rank")
        if rank in ("首位", "首"):
            new = "第二位" if rank == "首位" else "第二"
        else:
            raw = m.group("n") or m.group("top")
            n = int(raw) if raw.isdigit() else cn_small(raw)
            if n is None:
                continue
            new_n = n + 1 if (m.group("n") or n < 3) else n * 2
            new_raw = str(new_n) if raw.isdigit() else int_cn(new_n, "二")
            new = ("第" if m.group("n") else "前") + new_raw
        yield Plant("rank", c.replace(m.start("rank"), m.end("rank"), new), f"{rank}→{new}")


# --- reuse ---------------------------------------------------------------------------------
_REUSE: dict[str, list[str]] = {
    "元": ["完成房地产开发投资", "完成城建重点项目投资", "争取上级补助资金", "完成建筑业总产值"],
    "%": ["城镇化率达到", "城市生活污水集中收集率达到", "新建建筑中绿色建筑占比达到", "城市建成区绿地率达到"],
    "个百分点": ["常住人口城镇化率提高", "绿色建筑占比提高"],
    "套": ["新开工公租房", "筹集保障性租赁住房", "完成棚户区改造"],
    "户": ["完成农村危房改造", "惠及居民"],
    "个": ["开工改造城镇老旧小区", "新建城市停车泊位", "建成完整社区"],
    "平方米": ["完成既有建筑节能改造", "新增城市绿地", "竣工商品住房"],
    "人": ["新增城镇就业", "培训建筑业从业人员"],
    "人次": ["培训建筑业从业人员", "开展技能鉴定"],
    "公里": ["新建改造城市燃气管网", "新建城市道路"],
    "千米": ["新建改造城市燃气管网", "新建城市道路"],
    "家": ["新增建筑业资质企业", "培育装配式建筑生产基地"],
    "项": ["办结行政许可事项", "开工建设重点项目"],
    "亩": ["盘活存量建设用地", "供应住宅用地"],
    "座": ["新建城市公园", "新建改造公共厕所"],
    "处": ["整治安全隐患", "新建口袋公园"],
    "件": ["办结信访件", "受理群众投诉"],
    "次": ["开展安全生产检查", "组织联合执法"],
    "条": ["整治背街小巷", "打通断头路"],
    "吨": ["资源化利用建筑垃圾"],
    "栋": ["完成危房鉴定"],
}


def plant_reuse(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(FIG_RE):
        if _is_date(c.reference, m.start(), m.end()):
            continue
        unit = m.group("unit")
        base = unit.removeprefix("万").removeprefix("亿") if unit not in ("万", "亿") else unit
        options = [i for i in _REUSE.get(base, []) if i[-4:] not in c.reference]
        if not options:
            continue
        sentence = f"{rng.choice(options)}{m.group()}。"
        yield Plant("reuse", c.insert_sentence(rng, sentence), f"+「{sentence}」")


# --- direction -----------------------------------------------------------------------------
_FLIP = {
    "增长": "下降", "下降": "增长", "提高": "降低", "降低": "提高", "增加": "减少", "减少": "增加",
    "上升": "下降", "回落": "上升", "提升": "下降", "下滑": "增长", "扩大": "缩小", "缩小": "扩大",
}  # fmt: skip
_DIR_RE = re.compile(r"(?P<verb>" + "|".join(_FLIP) + r")(?=[了到至为达分别约近超过]{0,3}[0-9])"
                     r"|(?<=同比|环比|上年|去年)(?P<short>[增降])(?=[0-9])")  # fmt: skip


def plant_direction(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(_DIR_RE):
        old = m.group()
        new = _FLIP[old] if m.group("verb") else ("降" if old == "增" else "增")
        yield Plant("direction", c.replace(*m.span(), new), f"{old}→{new}")


# --- qualifier -----------------------------------------------------------------------------
_QUAL_RE = re.compile(
    rf"(?P<pre>超过|不少于|不低于|不超过|逾|近|约|超)(?={NUM})"
    rf"|(?<=[0-9])(?P<mid>余|多)(?=万|亿|{UNIT_RE})"
    rf"|(?<=[0-9%]|[万亿元人户个套项家米亩吨])(?P<post>以上|左右|以内|以下)"
)
_QUAL_SWAP = {
    "超过": "不足", "超": "不足", "不少于": "不超过", "不低于": "不高于", "不超过": "不少于", "逾": "近",
    "近": "超", "约": "", "余": "", "多": "", "以上": "", "左右": "", "以内": "以上", "以下": "以上",
}  # fmt: skip


def plant_qualifier(c: Case, rng: random.Random) -> Iterator[Plant]:
    text = c.reference
    changed: list[Plant] = []
    for m in c.finditer(_QUAL_RE):
        old = m.group()
        new = _QUAL_SWAP[old]
        changed.append(Plant("qualifier", c.replace(*m.span(), new), f"{old}→{new or '（删去）'}"))
    rng.shuffle(changed)
    yield from changed
    added: list[Plant] = []
    for m in c.finditer(FIG_RE):
        if _is_date(text, m.start(), m.end()) or text[max(0, m.start() - 2) : m.start()].endswith(
            ("超过", "不少于", "不低于", "不超过", "逾", "近", "约", "超", "达", "至", "到")
        ):
            continue
        if (text[m.end() : m.end() + 2] in ("以上", "左右", "以内", "以下")
                or text[m.end() : m.end() + 1] in "余多"):
            continue
        if m.group("unit") == "%":
            added.append(Plant("qualifier", c.replace(m.end(), m.end(), "左右"),
                               f"{m.group()}→{m.group()}左右"))
        else:
            word = rng.choice(("约", "近"))
            added.append(Plant("qualifier", c.replace(m.start(), m.start(), word),
                               f"{m.group()}→{word}{m.group()}"))
    rng.shuffle(added)
    yield from added


# --- period --------------------------------------------------------------------------------
_PERIOD_SWAP = {
    "前三季度": "上半年", "第一季度": "上半年", "一季度": "上半年", "第二季度": "一季度", "二季度": "一季度",
    "第三季度": "二季度", "三季度": "二季度", "第四季度": "三季度", "四季度": "三季度", "上半年": "全年",
    "下半年": "上半年", "全年": "上半年",
}  # fmt: skip
_PERIOD_RE = re.compile("|".join(sorted(_PERIOD_SWAP, key=len, reverse=True)))
_TIME_WORD_RE = re.compile(r"[0-9]+年|[0-9]+月|季度|半年|全年|年底|年内|今年|去年|上年|本年|当年|年度|以来|"
                           r"期间|月底|日前")


def plant_period(c: Case, rng: random.Random) -> Iterator[Plant]:
    found = False
    for m in c.finditer(_PERIOD_RE):
        found = True
        new = _PERIOD_SWAP[m.group()]
        yield Plant("period", c.replace(*m.span(), new), f"{m.group()}→{new}")
    if found:
        return
    # no period word in the bullets: put a wrong one before the indicator of a measured clause
    for (s, _e), b in zip(c.spans, c.bullets, strict=False):
        if _TIME_WORD_RE.search(b) or not FIG_RE.search(b):
            continue
        lead = re.match(r"(?:其中|同时)?[，,]?(?:全市|全区|全县|全省|全镇|我市|我区|我县|我局)?", b)
        at = s + (lead.end() if lead else 0)
        yield Plant("period", c.replace(at, at, "上半年"), f"+上半年 @「{b[:12]}…」")


# --- cn_percent ----------------------------------------------------------------------------
def _spell_percent(value: float, raw_num: str, rng: random.Random) -> tuple[str, str] | None:
    """A percentage in Chinese words, and a changed one: (clean spelling, planted spelling)."""
    if value in (33.3, 33.33):
        return "三分之一", "一半"
    if value == 25:
        return "四分之一", "三分之一"
    if value == 50:
        form = rng.choice(("一半", "五成", "百分之五十"))
        return form, {"一半": "三分之一", "五成": "三成", "百分之五十": "百分之四十"}[form]
    if value == int(value) and 10 <= value <= 90 and int(value) % 10 == 0:
        n = int(value) // 10
        new_n = _other_value(n, rng, 1, 9)
        if rng.random() < 0.5:
            return int_cn(n) + "成", int_cn(new_n) + "成"
        return "百分之" + int_cn(n * 10, "二"), "百分之" + int_cn(new_n * 10, "二")
    return None


def plant_cn_percent(c: Case, rng: random.Random) -> Iterator[Plant]:
    text = c.reference
    for m in c.finditer(rf"(?<![0-9.])(?P<verb>增长|提高)?(?P<num>{NUM})%"):
        value = float(m.group("num"))
        if value == 100 and m.group("verb"):
            clean, planted = "翻一番", "翻两番"
            s, e = m.span()
        else:
            spelled = _spell_percent(value, m.group("num"), rng)
            if spelled is None:
                continue
            clean, planted = spelled
            s, e = m.start("num"), m.end()
            if m.group("verb"):
                clean, planted = m.group("verb") + clean, m.group("verb") + planted
                s = m.start()
        # rewrite the same place in the bullet that holds it, and in the passage
        bullets = list(c.bullets)
        for k, (bs, be) in enumerate(c.spans):
            if bs <= s and e <= be:
                b = bullets[k]
                bullets[k] = b[: s - bs] + clean + b[e - bs :]
                break
        base = text[:s] + clean + text[e:]
        variant = text[:s] + planted + text[e:]
        yield Plant("cn_percent", variant, f"{text[s:e]}→{clean}（两边）；文中→{planted}", base, bullets)


# --- citation ------------------------------------------------------------------------------
_DOC_TITLE_RE = re.compile(
    r"(?:通知|意见|办法|方案|规划|计划|标准|规范|条例|规定|决定|细则|纲要|导则|指南|手册|批复|报告|法|规程|规则|措施|要点|清单|目录)$"
)
_DOCNO = r"[〔\[［(（](?:19|20)[0-9]{2}[〕\]］)）]第?(?P<no>[0-9]+)号"


def plant_citation(c: Case, rng: random.Random) -> Iterator[Plant]:
    for m in c.finditer(rf"《[^》\n]{{2,80}}》(?:[（(][^（()）]{{0,24}}{_DOCNO}[)）])?(?:等文件)?"):
        if not _DOC_TITLE_RE.search(m.group().partition("》")[0]):
            continue  # 《科学》, 《哪吒2》: a journal or a film, not a document the passage relies on
        instead = "相关文件"
        yield Plant("citation", c.replace(*m.span(), instead), f"{m.group()}→{instead}")
    for m in c.finditer(_DOCNO):
        n = int(m.group("no"))
        new = str(n + rng.randint(1, 9))
        yield Plant("citation", c.replace(m.start("no"), m.end("no"), new), f"{m.group()}：{n}号→{new}号")


PLANTERS: dict[str, Callable[[Case, random.Random], Iterator[Plant]]] = {
    "digit": plant_digit,
    "removed": plant_removed,
    "invented_sentence": plant_invented,
    "scale": plant_scale,
    "pct_pp": plant_pct_pp,
    "cn_quantity": plant_cn_quantity,
    "date": plant_date,
    "swap": plant_swap,
    "rank": plant_rank,
    "reuse": plant_reuse,
    "direction": plant_direction,
    "qualifier": plant_qualifier,
    "period": plant_period,
    "cn_percent": plant_cn_percent,
    "citation": plant_citation,
}


def plants_for(c: Case, per_case: int, seed: int = SEED) -> list[Plant]:
    out: list[Plant] = []
    for cls, planter in PLANTERS.items():
        rng = random.Random(f"{seed}:{c.id}:{cls}")
        candidates = [p for p in planter(c, rng) if p.variant != c.reference]
        seen: set[str] = set()
        unique = [p for p in candidates if not (p.variant in seen or seen.add(p.variant))]  # type: ignore[func-returns-value]
        if cls in ("qualifier",):  # changes of a written qualifier first, then additions
            out += unique[:per_case]
        else:
            out += rng.sample(unique, min(per_case, len(unique)))
    return out


# ------------------------------------------------------------------------------------------
# guards: each returns findings as (key, severity)

Findings = list[tuple[tuple[str, ...], str]]


def project_guard(draft: str, bullets: list[str]) -> Findings:
    from drafting.guard import check_figures

    return [(f.key(), f.severity) for f in check_figures(draft, "\n".join(bullets)).findings()]


def gongwen(draft: str, bullets: list[str]) -> Findings:
    return [(k, BLOCKING) for k in gongwen_guard.check("\n".join(bullets), draft)]


def gongwen_precise(draft: str, bullets: list[str]) -> Findings:
    return [(k, BLOCKING) for k in gongwen_guard.check("\n".join(bullets), draft, precise=True)]


GUARDS: dict[str, Callable[[str, list[str]], Findings]] = {
    "project": project_guard,
    "gongwen": gongwen,
    "gongwen_precise": gongwen_precise,
}


def new_findings(clean: Findings, variant: Findings) -> Findings:
    """Findings of ``variant`` whose key is not among ``clean``'s (as multisets)."""
    left = Counter(k for k, _s in clean)
    out = []
    for k, s in variant:
        if left[k] > 0:
            left[k] -= 1
        else:
            out.append((k, s))
    return out


# ------------------------------------------------------------------------------------------
# the run


def load(limit: int | None) -> list[Case]:
    rows = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [make_case(r) for r in rows[:limit]]


def run(cases: list[Case], per_case: int = 3, examples: int = 0) -> dict[str, Any]:
    t0 = time.perf_counter()
    classes = list(PLANTERS)
    res: dict[str, Any] = {
        g: {
            "false_alarm_any": 0,
            "false_alarm_blocking": 0,
            "clean_keys": Counter(),
            "clean_reasons": Counter(),
            "classes": {k: {"n": 0, "caught": 0, "blocking": 0} for k in classes},
            "cn_percent_base_new": 0,
        }
        for g in GUARDS
    }
    shown: dict[str, list[str]] = {k: [] for k in classes}
    cn_percent_bases = 0
    for c in cases:
        clean = {g: fn(c.reference, c.bullets) for g, fn in GUARDS.items()}
        for g, fs in clean.items():
            r = res[g]
            r["false_alarm_any"] += bool(fs)
            r["false_alarm_blocking"] += any(s == BLOCKING for _k, s in fs)
            r["clean_keys"].update("/".join(k) for k, _s in fs)
            r["clean_reasons"].update("/".join(k[:-1]) for k, _s in fs)
        for p in plants_for(c, per_case):
            bullets = p.base_bullets if p.base_bullets is not None else c.bullets
            flags = []
            for g, fn in GUARDS.items():
                base = clean[g]
                if p.base_reference is not None:
                    base = fn(p.base_reference, bullets)
                    res[g]["cn_percent_base_new"] += bool(new_findings(clean[g], base))
                new = new_findings(base, fn(p.variant, bullets))
                row = res[g]["classes"][p.cls]
                row["n"] += 1
                row["caught"] += bool(new)
                row["blocking"] += any(s == BLOCKING for _k, s in new)
                flags.append(f"{g}={'Y' if new else '-'}")
            cn_percent_bases += p.base_reference is not None
            if len(shown[p.cls]) < examples:
                shown[p.cls].append(f"  [{c.id}] {p.what}  ({', '.join(flags)})")
    out: dict[str, Any] = {"cases": len(cases), "per_case": per_case, "seed": SEED, "guards": {}}
    for g, r in res.items():
        out["guards"][g] = {
            "false_alarm_any": r["false_alarm_any"],
            "false_alarm_blocking": r["false_alarm_blocking"],
            "top_clean_findings": r["clean_keys"].most_common(10),
            "top_clean_reasons": r["clean_reasons"].most_common(10),
            "classes": r["classes"],
            "cn_percent_clean_pairs_with_new_finding": r["cn_percent_base_new"],
        }
    out["cn_percent_clean_pairs"] = cn_percent_bases
    out["examples"] = shown
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def gongwen_pair() -> dict[str, Any]:
    original = "请某某市教育局于2026年8月21日拨付10万元，依据《测试办法》办理。"
    rewritten = "请某某市教育局于2026年8月22日拨付12万元办理。"
    return {
        "original": original,
        "rewritten": rewritten,
        "project": ["/".join(k) + f"（{s}）" for k, s in project_guard(rewritten, [original])],
        "gongwen": ["/".join(k) for k, _s in gongwen(rewritten, [original])],
    }


def rate(a: int, n: int) -> str:
    return f"{a / n:.2f}" if n else "—"


def print_report(out: dict[str, Any]) -> None:
    n_cases = out["cases"]
    p, gw, gwp = (out["guards"][g] for g in ("project", "gongwen", "gongwen_precise"))
    print(f"Planted-error benchmark: {n_cases} dev cases, ≤{out['per_case']} plants per case per class, "
          f"seed {out['seed']}, {out['seconds']} s\n")  # fmt: skip
    rows = []
    tot = Counter()
    for cls in PLANTERS:
        a, b, d = p["classes"][cls], gw["classes"][cls], gwp["classes"][cls]
        rows.append([cls, a["n"], a["caught"], a["blocking"], rate(a["caught"], a["n"]),
                     b["caught"], rate(b["caught"], b["n"]), d["caught"],
                     rate(d["caught"], d["n"])])  # fmt: skip
        tot.update({"n": a["n"], "pc": a["caught"], "pb": a["blocking"], "gc": b["caught"],
                    "dc": d["caught"]})
    rows.append(["all", tot["n"], tot["pc"], tot["pb"], rate(tot["pc"], tot["n"]), tot["gc"],
                 rate(tot["gc"], tot["n"]), tot["dc"], rate(tot["dc"], tot["n"])])  # fmt: skip
    print(table(rows, ["class", "n", "project caught", "project 必查", "project rate", "gongwen caught",
                       "gongwen rate", "gongwen precise caught", "gongwen precise rate"]))  # fmt: skip
    print("\nFalse alarms on the clean passages (a clean passage with ≥1 finding):")
    for name, g in (("project", p), ("gongwen", gw), ("gongwen precise", gwp)):
        print(f"  {name}: any severity {g['false_alarm_any']}/{n_cases} "
              f"({rate(g['false_alarm_any'], n_cases)}), "
              f"必查 {g['false_alarm_blocking']}/{n_cases} "
              f"({rate(g['false_alarm_blocking'], n_cases)})")  # fmt: skip
    for name, g in (("project", p), ("gongwen", gw)):
        print(f"\nTop finding reasons on clean passages, {name}: "
              + ("; ".join(f"{k} ×{v}" for k, v in g["top_clean_reasons"]) or "(none)"))  # fmt: skip
        print(f"Top findings on clean passages, {name}:")
        for k, v in g["top_clean_findings"]:
            print(f"  {v:3d}  {k}")
        if not g["top_clean_findings"]:
            print("  (none)")
    print(f"\ncn_percent: {out['cn_percent_clean_pairs']} clean pairs built by spelling one bullet "
          "percentage "
          "(a multiple of 10, 25%, 33.3%, 50%, or 增长/提高100%) as 三成 / 百分之三十 / 一半 / 三分之一 / "
          "四分之一 / "
          "翻一番 in BOTH the bullet and the passage; the plant changes it in the passage only, and is "
          "compared "
          "with that rewritten pair.  Rewritten pairs that themselves gave a new finding: "
          + ", ".join(f"{g} {out['guards'][g]['cn_percent_clean_pairs_with_new_finding']}" for g in GUARDS))
    pair = out["gongwen_pair"]
    print(f"\ngongwen's test pair: 「{pair['original']}」 → 「{pair['rewritten']}」")
    print(f"  project: {'; '.join(pair['project']) or '(no finding)'}")
    print(f"  gongwen: {'; '.join(pair['gongwen']) or '(no finding)'}")
    if any(out["examples"].values()):
        print("\nExamples (Y = caught):")
        for cls, lines in out["examples"].items():
            print(f"{cls}:")
            print("\n".join(lines) or "  (none)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="only the first N cases")
    ap.add_argument("--per-case", type=int, default=3, help="plants per case per class (default 3)")
    ap.add_argument("--examples", type=int, default=0, help="print N plants per class")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = ap.parse_args(argv)
    out = run(load(args.limit), args.per_case, args.examples)
    out["gongwen_pair"] = gongwen_pair()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print_report(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
