"""House style learned from the writer's own corpus, and a conformance check for drafts.

Profile (:func:`build_profile`)
===============================

Built from chunks (the store's rows, or chunks made by :func:`drafting.chunking.chunk_document`).
Every statistic is counted over what the corpus really contains; nothing is hard-coded except the
small word lists below that tell a verb from a subject or a time phrase.

* **headings** – every heading once per document: the chunk's ``heading_path`` plus heading lines
  written into merged chunk text.  Only headings with a marker count (``一、`` / ``（一）`` / ``1.`` /
  ``（1）``, levels from :data:`drafting.headings.HEADING_LEVELS`).  The marker is removed and the
  rest is split on ，、；: each part is described by its length in characters, quotes and other
  punctuation not counted (``聚焦转型升级，做实企业服务`` → ``"6+6"``, ``强化理论武装`` → ``"6"``).
  ``headings`` keeps the 8 most common patterns per level, ``heading_examples`` up to 6 real
  headings of at most 30 characters (marker removed): one for each common pattern in turn, from a
  document not yet used while there is one.
* **enumerations** – families ``一是/二是``, ``一要/二要``, ``第一/第二``, ``首先/其次`` found by
  :func:`drafting.headings.find_enumerations`; a document uses a family when it has at least two
  distinct markers of it.  Counts are documents.
* **openers** – body sentences (:func:`drafting.sentences.split_sentences` over non-heading lines)
  lose a leading enumeration marker (``一是``), a short time or setting clause (``2023年上半年，``,
  ``下一步，``, ``在…方面，``), a subject (``我局``, ``市住建局``, ``全市``) and an auxiliary (``将``, ``要``).
  The first word is then the longest match (4, 3, 2 characters) in jieba's dictionary — the one
  :mod:`drafting.textseg` segments with; running the full segmenter over the corpus would take
  longer than the whole profile may (2 s for 3,850 chunks).  Words in :data:`NON_HEADS` (pronouns,
  time words, connectives, common subject nouns such as 经济 or 住房) are not heads.  An adverb in
  :data:`MODIFIERS` (``深入``, ``扎实``, ``持续``…) joins a following verb: ``深入推进``, ``扎实开展``.
  "Verb" here means a word the corpus itself uses at least 3 times as a plain clause head.  Top 30.
* **verbs** – the same head word for every clause (split on ，；。：！？), the adverb dropped
  (``深入推进`` and the dictionary word ``认真落实`` count ``推进`` and ``落实``).  Top 30.
* **sentence_chars / section_chars** – median, 10th and 90th percentile (and mean) of body-sentence
  length and of body length per section (chunks of one document under one heading path summed).
* **closings** – the last sentence of each document (its highest-position chunk) reduced to its
  closing formula with the specifics replaced by …: ``为…而努力奋斗``, ``奋力谱写…新篇章``,
  ``为…作出新的更大贡献``, ``…推向新高度``, ``汇报完毕，不当之处，请…批评指正``, ``特此报告`` …
  (:func:`closing_frame`).  A last sentence without a formula is not closing-like and not counted.
* **first_person** – share of documents that use ``我们``, and a bare ``我`` (not ``我局/我市/我国``,
  not the ceremonial ``我代表…``, not inside quotes such as “民有所呼、我有所应”).

Conformance (:func:`conformance`)
=================================

A score out of 100, made of seven parts; a part that does not apply gives full marks:

* **标题层级 (20)** – markers in proper nesting: no ``（一）``/``1.`` before the first ``一、`` when the
  draft has level-1 headings, no skipped level (``一、`` straight to ``1.``), consecutive numbers
  (``一、`` then ``三、``), full-width brackets (``（一）`` not ``(一)``).  10 points per kind of fault.
* **句子长度 (20)** – mean body-sentence length against the profile: over p90 loses 12, any sentence
  over twice p90 loses 8 more; a mean under p10 (choppy fragments) loses 6.
* **常用开头 (15)** – share of sentences whose head word is one of the profile's openers or verbs;
  30 % or more earns all 15, less earns its share (only with 3 or more sentences).
* **列举方式 (10)** – a list of 3 or more items (bullet lines, or short item lines) without the
  enumeration habit (``一是…二是…三是``, or the profile's most used family) loses 10.
* **人称 (10)** – a bare ``我`` loses 10 and ``我们`` loses 5, unless at least 20 % of the corpus's
  documents use it; ``我局``, ``我市`` are fine.
* **格式残留 (15)** – Markdown and English artefacts: ``**``/``__`` emphasis, ``#`` headings, ``-``/``*``/``•``
  bullets, code fences, English words (upper-case acronyms such as PPP are fine), ASCII
  punctuation between Chinese characters.  5 points per kind.
* **结尾 (10)** – a whole document (two or more ``一、`` headings, or ``whole_document=True``) must end
  with a closing-like sentence (one with a closing formula, :func:`closing_frame`).

Cache (:func:`load_or_build`): ``<store>/style.json``, keyed by the corpus fingerprint (the keyword
index's hash of every chunk id), so it is rebuilt whenever a document is ingested or removed.

Nothing runs at import time; apart from :func:`load_or_build` the functions are pure (they only
initialise jieba's dictionary through :func:`drafting.textseg.tokenizer` on first use).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drafting.headings import HEADING_LEVELS, find_enumerations, heading_level
from drafting.numerals import cn_to_int
from drafting.records import Chunk
from drafting.sentences import split_sentences

if TYPE_CHECKING:
    from drafting.store import CorpusStore

__all__ = [
    "Conformance",
    "StyleProfile",
    "build_profile",
    "closing_frame",
    "conformance",
    "corpus_fingerprint",
    "heading_pattern",
    "load_or_build",
]

PROFILE_VERSION = 1
STYLE_FILE = "style.json"

TOP_WORDS = 30
TOP_PATTERNS = 8
TOP_CLOSINGS = 10
EXAMPLES_PER_LEVEL = 6
EXAMPLE_MAX_CHARS = 30

# fallbacks when the profile has no sentences (empty corpus)
DEFAULT_SENTENCE = {"median": 40.0, "p10": 15.0, "p90": 80.0}

LEVEL_MARKERS = {1: "一、", 2: "（一）", 3: "1.", 4: "（1）"}
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_ALL_CJK_RE = re.compile(r"^[\u4e00-\u9fff]+$")
_COUNTED_RE = re.compile(r"[\u3400-\u9fffA-Za-z0-9*＊]")
_PART_SPLIT_RE = re.compile(r"[，、；,;]")
_CLAUSE_SPLIT_RE = re.compile(r"[，；。：！？,;:!?\n]")

# Adverbs that join the verb after them (深入 + 推进 → 深入推进).
MODIFIERS = frozenset(
    [
        "深入", "扎实", "积极", "持续", "全面", "大力", "不断", "切实", "全力", "认真", "努力", "坚决", "统筹", "重点", "稳步", "有序",
        "严格", "进一步", "高标准", "高质量", "高效", "主动", "及时", "广泛", "充分", "精心", "集中", "协同", "依法", "继续", "着重", "全方位",
        "系统", "科学", "有效", "加快", "扎扎实实", "更加", "更好", "始终", "一直", "逐步", "率先", "同步", "常态化", "深度", "全程", "长效",
        "积极稳妥", "稳妥", "务实", "累计", "成功", "共同", "强力", "纵深", "坚定不移", "千方百计", "因地制宜", "多渠道", "超额", "圆满",
        "严厉", "牢牢", "紧紧", "高度",
    ]
)
# Those of them that are verbs too when no verb follows (加快城市更新, 统筹城乡发展).
_VERBAL_MODIFIERS = frozenset(["加快", "继续", "统筹", "深入", "集中", "协同", "强化", "纵深"])
# Words that start a clause but are not predicates: pronouns, collectives, time, connectives.
NON_HEADS = frozenset(
    [
        "我们", "我局", "我市", "我区", "我县", "我省", "你们", "他们", "大家", "各位", "同志们", "其中", "其他", "其余", "同时", "此外",
        "另外", "因此", "所以", "但是", "但", "目前", "当前", "今年", "去年", "明年", "全年", "上半年", "下半年", "近年来", "今后", "下一步",
        "以来", "期间", "年度", "同比", "环比", "分别", "总之", "全市", "全区", "全县", "全省", "全局", "全国", "各地", "各级", "各部门",
        "社会", "城镇", "城市", "农村", "城乡", "群众", "企业", "项目", "工作", "这些", "这个", "这是", "这一", "那些", "一方面", "另一方面",
        "特别", "尤其", "主要", "以及", "并且", "而且", "还是", "就是", "只有", "如果", "虽然", "通过", "根据", "按照", "随着", "对于",
        "关于", "作为", "由于", "为了", "截至", "截止", "一批", "一些", "一系列", "同志", "领导", "尊敬", "谢谢", "首先", "其次", "再次",
        "最后", "第一", "第二", "第三", "一是", "二是", "三是", "四是", "五是", "六是", "以上", "上述", "如下", "包括", "主要是", "过去",
        "五年", "一年", "现在", "年均", "年内", "一定", "一般", "基本", "部分", "各类", "各项", "所有", "等等", "只要", "在于", "有利于",
        "对此", "上下", "本市", "我国", "中国", "全球", "世界", "国际", "国内", "成绩", "总量", "增速", "规模", "综合", "全社会", "全社",
        "习近平", "十四五", "十五", "十三", "主题", "住房", "住宅", "房屋", "房地产", "物业", "建筑", "小区", "老旧", "道路", "市政", "园林",
        "绿化", "燃气", "供水", "供热", "排水", "污水", "消防", "经济", "经济社会", "政府", "产业", "国家", "工业", "地区", "地方", "粮食",
        "人民", "民生", "人均", "科技", "居民", "城乡居民", "城镇居民", "农民", "人口", "常住人口", "财政", "教育", "文化", "生态", "生态环境",
        "旅游", "交通", "基础设施", "公共服务", "社会保障", "固定资产", "生产总值", "农业", "服务业", "制造业", "乡村", "县域", "县城", "区域",
        "省级", "国家级", "自治区", "省政府", "市政府", "民营", "民间", "国有企业", "金融机构", "高校", "基层", "单位", "中心", "技术", "高新技术",
        "新能源", "能源", "电力", "外贸", "进出口", "营商", "黄河", "法治", "平安", "美丽", "绿色", "数字", "现代", "现代化", "城镇化",
        "城镇化率", "空气质量", "蓝天", "信访", "工会",
    ]
)

# What comes before the predicate: enumeration marker, time or setting clause, subject, auxiliary.
_LEAD_ENUM = (
    r"(?:[一二三四五六七八九十]{1,3}[是要](?=[\u4e00-\u9fff])|第[一二三四五六七八九十]{1,3}[，、：,:]?|"
    r"首先[，,]?|其次[，,]?|再次[，,]?|最后[，,]|同时[，,]|此外[，,]|另外[，,]|[（(][一二三四五六七八九十\d]{1,2}[）)])"
    r"[，,、：: ]*"
)
_LEAD_TIME = (
    r"(?:(?:(?:19|20)\d{2}|[一二三四五六七八九十]+年来|今年|去年|明年|上半年|下半年|年初|年底|年末|近年|近期|"
    r"今后|下一步|当前|目前|过去|未来|一方面|另一方面|总的来看|总体来看|总之|与此同时|为此|对此|"
    r"在此基础上|同时|此外|另外|特别是|其中|截至|截止)[^，,。；！？]{0,12}[，,]"
    r"|在[^，,。；！？]{1,14}(?:上|中|下|里|方面|过程中|期间)[，,])\s*"
)
_LEAD_SUBJECT = (
    r"(?:我们|我局|我市|我区|我县|我省|市住建局|区住建局|县住建局|住建局|局党组|局党委|局机关|"
    r"局系统|全局上下|全局|全市上下|全市|全区|全县|全省|各级各部门|各地各部门|各地|各部门|各单位|大家)"
    r"[，, ]*(?=\S{2})"
)
_LEAD_AUX = r"(?:将|要|还|也|必须|必将|已|正|都|均|仍|会|须|需)(?=[\u4e00-\u9fff]{2})"
_LEAD_SENTENCE_RE = re.compile(
    rf"[ \t\u3000“\"]*(?:{_LEAD_ENUM})?(?:{_LEAD_TIME})?(?:{_LEAD_ENUM})?(?:{_LEAD_SUBJECT})?(?:{_LEAD_AUX})?"
)
_LEAD_CLAUSE_RE = re.compile(rf"[ \t\u3000“\"]*(?:{_LEAD_ENUM})?(?:{_LEAD_SUBJECT})?(?:{_LEAD_AUX})?")

# Closing formulas: (pattern, frame, strong).  A sentence's frame is the strong formula that ends
# last in it (a weak one only when no strong one matches); the frame keeps the fixed words and
# puts … where the specifics were.
_CLOSING_FORMULAS: tuple[tuple[re.Pattern[str], str, bool], ...] = tuple(
    (re.compile(p), frame, strong)
    for p, frame, strong in (
        (r"而(?:努力|不懈|团结|接续|共同)?奋斗", "为…而努力奋斗", True),
        (r"(?:作出|做出)(?:新的)?(?:更大的?)?新?贡献|贡献[^，。！？]{0,8}力量", "为…作出新的更大贡献", True),
        (r"谱写[^。！？]{0,40}?(?:篇章|乐章)", "奋力谱写…新篇章", True),
        (r"开创[^。！？]{0,30}?新局面", "开创…新局面", True),
        (r"推向新高度|再上新台阶|迈上新台阶|再创新佳绩|再创新辉煌", "…{0}", True),
        (r"以优异成绩(?:迎接|庆祝|向)", "以优异成绩迎接…", True),
        (r"(?:书写|交出)[^。！？]{0,20}?答卷", "书写…新答卷", True),
        (r"(?:汇报完毕|以上汇报)[^。！？]{0,30}?批评指正", "汇报完毕，不当之处，请…批评指正", True),
        (r"汇报完毕|以上汇报|批评指正", "汇报完毕，不当之处，请…批评指正", True),
        (r"特此(?:报告|汇报)", "特此报告", True),
        (r"谢谢(?:大家)?", "谢谢", False),
        (r"再接再厉|砥砺前行|勇毅前行|踔厉奋发|笃行不怠|奋勇争先|奋发有为|接续奋斗", "…{0}…", False),
    )
)
# bare 我 (I): not 我局/我市/我国…, not the ceremonial 我代表/我谨代表, not idioms (自我, 你追我赶, 时不我待)
_BARE_I_RE = re.compile(r"(?<![自忘无敌追不之爱舍])我(?![局市省区县们国党院委厅校司处办镇乡村部军]|谨?代表)")
_WE_RE = re.compile(r"我们")
_QUOTED_RE = re.compile(r"“[^“”\n]{0,40}”|《[^《》\n]{0,40}》")


def _bare_i(text: str) -> list[str]:
    """Bare first-person 我 outside quotations and titles (slogans such as “我为群众办实事” are fine)."""
    return _BARE_I_RE.findall(_QUOTED_RE.sub("", text))


# conformance: artefacts
# ``**`` / ``__`` emphasis marks; not the masked figures of the seeds (``*.**万个``)
_MD_BOLD_RE = re.compile(r"(?<![\d.*＊])\*\*(?![\d.*＊])|(?<![\w])__|__(?![\w])")
_MD_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s*\S", re.MULTILINE)
_BULLET_RE = re.compile(r"^\s*(?:[-*+•·●▪◆■]\s*|\d{1,2}[)）]\s*|[①②③④⑤⑥⑦⑧⑨⑩]\s*)(?=\S)", re.MULTILINE)
_DASH_BULLET_RE = re.compile(r"^\s*[-*+]\s+\S", re.MULTILINE)
_ROUND_BULLET_RE = re.compile(r"^\s*[•·●▪◆■]\s*\S", re.MULTILINE)
_CODE_RE = re.compile(r"```|^\s*>\s", re.MULTILINE)
_ENGLISH_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]*[a-z][A-Za-z]*(?![A-Za-z])")
_ENGLISH_OK = frozenset(["REITs", "kWh", "MWh", "GWh", "TWh", "App", "app", "km", "kV", "mm", "cm", "Wi", "Fi"])
_ASCII_PUNCT_RE = re.compile(r"(?<=[\u4e00-\u9fff])[,;:!?()](?=[\u4e00-\u9fff(]|$)|(?<=[\u4e00-\u9fff])\((?=[\u4e00-\u9fff])")
_HALF_PAREN_HEADING_RE = re.compile(r"^\s*\((?:[一二三四五六七八九十]{1,3}|\d{1,2})\)")


# --------------------------------------------------------------------------------------------
# the profile


@dataclass
class StyleProfile:
    """What the corpus's house style looks like, counted from the corpus itself."""

    fingerprint: str
    docs: int
    chunks: int
    headings: dict[int, list[tuple[str, int]]]
    heading_examples: dict[int, list[str]]
    enumerations: list[tuple[str, int]]
    openers: list[tuple[str, int]]
    verbs: list[tuple[str, int]]
    sentence_chars: dict[str, float]
    section_chars: dict[str, float]
    closings: list[tuple[str, int]]
    first_person: dict[str, float] = field(default_factory=dict)  # {"我们": share of docs, "我": …}

    # ---- serialisation ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "fingerprint": self.fingerprint,
            "docs": self.docs,
            "chunks": self.chunks,
            "headings": {str(k): [[p, n] for p, n in v] for k, v in self.headings.items()},
            "heading_examples": {str(k): list(v) for k, v in self.heading_examples.items()},
            "enumerations": [[w, n] for w, n in self.enumerations],
            "openers": [[w, n] for w, n in self.openers],
            "verbs": [[w, n] for w, n in self.verbs],
            "sentence_chars": dict(self.sentence_chars),
            "section_chars": dict(self.section_chars),
            "closings": [[w, n] for w, n in self.closings],
            "first_person": dict(self.first_person),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StyleProfile:
        """Inverse of :meth:`to_json`; raises ValueError/KeyError/TypeError on a malformed dict."""
        if int(data.get("version", 0)) != PROFILE_VERSION:
            raise ValueError("style profile version differs")

        def pairs(rows: Any) -> list[tuple[str, int]]:
            return [(str(a), int(b)) for a, b in rows]

        return cls(
            fingerprint=str(data["fingerprint"]),
            docs=int(data["docs"]),
            chunks=int(data["chunks"]),
            headings={int(k): pairs(v) for k, v in data["headings"].items()},
            heading_examples={int(k): [str(x) for x in v] for k, v in data["heading_examples"].items()},
            enumerations=pairs(data["enumerations"]),
            openers=pairs(data["openers"]),
            verbs=pairs(data["verbs"]),
            sentence_chars={str(k): float(v) for k, v in data["sentence_chars"].items()},
            section_chars={str(k): float(v) for k, v in data["section_chars"].items()},
            closings=pairs(data["closings"]),
            first_person={str(k): float(v) for k, v in data.get("first_person", {}).items()},
        )

    # ---- views -----------------------------------------------------------------------------
    def sentence_stat(self, key: str) -> float:
        return float(self.sentence_chars.get(key) or DEFAULT_SENTENCE[key])

    def opener_set(self) -> set[str]:
        return {w for w, _n in self.openers} | {w for w, _n in self.verbs}

    def summary_zh(self) -> str:
        """Readable multi-line summary (``drafting style``)."""
        if not self.chunks:
            return "语料库为空：请先用 drafting ingest 导入本局以往材料，再查看文风档案。"
        lines = [f"文风档案：{self.docs}篇文档，{self.chunks}个片段。"]
        for level in sorted(self.headings):
            pats = self.headings[level]
            if not pats:
                continue
            forms = "、".join(f"{_pattern_zh(p)}（{n}）" for p, n in pats[:5])
            ex = "；".join(self.heading_examples.get(level, [])[:3])
            lines.append(
                f"{LEVEL_NAMES.get(level, str(level))}标题（{LEVEL_MARKERS.get(level, '')}）常见形式：{forms}"
                + (f"；例：{ex}" if ex else "")
            )
        if self.enumerations:
            lines.append("列举习惯：" + "、".join(f"{w}（{n}篇）" for w, n in self.enumerations))
        else:
            lines.append("列举习惯：语料中未见“一是……二是……”等列举。")
        if self.openers:
            lines.append("常用开头词：" + "、".join(f"{w}({n})" for w, n in self.openers[:15]))
        if self.verbs:
            lines.append("常用动词：" + "、".join(f"{w}({n})" for w, n in self.verbs[:15]))
        if self.sentence_chars:
            s = self.sentence_chars
            lines.append(
                f"句长：中位数{s['median']:.0f}字（10%的句子不超过{s['p10']:.0f}字，90%不超过{s['p90']:.0f}字）。"
            )
        if self.section_chars:
            s = self.section_chars
            lines.append(f"段落（每节正文）长度：中位数{s['median']:.0f}字（{s['p10']:.0f}–{s['p90']:.0f}字）。")
        if self.closings:
            lines.append("常用结尾：" + "；".join(f"{w}（{n}）" for w, n in self.closings[:5]))
        we = self.first_person.get("我们", 0.0)
        bare = self.first_person.get("我", 0.0)
        lines.append(f"人称：{we:.0%}的文档用“我们”，{bare:.0%}的文档用单独的“我”。")
        return "\n".join(lines)

    def prompt_hints(self) -> str:
        """Compact Chinese style rules for an LLM prompt (at most 300 characters)."""
        parts = ["标题按“一、”“（一）”“1.”“（1）”四级编号，不用Markdown符号"]
        forms = []
        for lvl in (1, 2):
            pats = self.headings.get(lvl) or []
            if pats:
                ex = self.heading_examples.get(lvl, [])[:1]
                forms.append(
                    f"{LEVEL_NAMES[lvl]}标题多为{_pattern_zh(pats[0][0])}" + (f"（如“{ex[0]}”）" if ex else "")
                )
        if forms:
            parts.append("，".join(forms))
        fam = self.enumerations[0][0] if self.enumerations else "一是/二是"
        parts.append(f"列举三项以上用“{_family_example(fam)}”")
        if self.openers:
            parts.append("句子多以" + "、".join(w for w, _ in self.openers[:6]) + "等动词开头")
        parts.append("多用四字短语")
        med = self.sentence_stat("median")
        p90 = self.sentence_stat("p90")
        parts.append(f"句长约{med:.0f}字，一般不超过{p90:.0f}字")
        if self.first_person.get("我", 0.0) < 0.2:
            parts.append("不用第一人称“我”，称“我局”")
        if self.closings:
            parts.append(f"全文结尾常用“{self.closings[0][0]}”")
        text = "本局文风：" + "；".join(parts) + "。"
        while len(text) > 300 and len(parts) > 2:
            del parts[1]  # heading forms go first: they carry the longest examples
            text = "本局文风：" + "；".join(parts) + "。"
        return text[:300]


def _pattern_zh(pattern: str) -> str:
    return "+".join(f"{p}字" for p in pattern.split("+"))


def _family_example(family: str) -> str:
    return {
        "一是/二是": "一是……二是……三是……",
        "一要/二要": "一要……二要……三要……",
        "第一/第二": "第一，……第二，……第三，……",
        "首先/其次": "首先……其次……最后……",
    }.get(family, family)


# --------------------------------------------------------------------------------------------
# building blocks


def heading_pattern(text: str) -> str:
    """``聚焦转型升级，做实企业服务`` → ``"6+6"`` (marker already removed; punctuation not counted)."""
    parts = [len(_COUNTED_RE.findall(p)) for p in _PART_SPLIT_RE.split(text)]
    return "+".join(str(n) for n in parts if n)


def strip_marker(heading: str) -> tuple[int, str]:
    """(marker level, text without the marker) of a heading; level 0 when it has no marker."""
    s = heading.strip()
    level = heading_level(s)
    if not level:
        return 0, s
    m = HEADING_LEVELS[level].match(s)
    return level, s[m.end() :].strip() if m else s


class _Dict:
    """Longest-match lookup in jieba's dictionary (memoised on the 4-character prefix)."""

    def __init__(self, freq: dict[str, int]) -> None:
        self.freq = freq
        self.memo: dict[str, str] = {}

    def longest(self, s: str) -> str:
        """Longest dictionary word (4, 3, 2 chars) at the start of ``s``; else its first char."""
        key = s[:4]
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        w = key[:1]
        for n in (4, 3, 2):
            if len(key) >= n and self.freq.get(key[:n]):
                w = key[:n]
                break
        self.memo[key] = w
        return w


def _jieba_dict() -> _Dict:
    from drafting import textseg

    return _Dict(textseg.tokenizer().FREQ)


def _strip_lead(s: str, first_clause: bool) -> str:
    """Remove what comes before the predicate: enumeration marker, time clause, subject, auxiliary."""
    m = (_LEAD_SENTENCE_RE if first_clause else _LEAD_CLAUSE_RE).match(s)
    return s[m.end() :] if m else s


def _valid_head(w: str) -> bool:
    return 2 <= len(w) <= 4 and bool(_ALL_CJK_RE.match(w)) and w not in NON_HEADS


def _first_word(s: str, d: _Dict, first_clause: bool = True) -> tuple[str, str]:
    """(first word, rest) of a sentence or clause once its lead-in is removed; ("", "") if unusable."""
    s = _strip_lead(s, first_clause)
    if not s or not _CJK_RE.match(s[0]):
        return "", ""
    w = d.longest(s)
    return (w, s[len(w) :]) if _valid_head(w) else ("", "")


def _compose(w: str, rest: str, d: _Dict, verbset: set[str] | frozenset[str]) -> tuple[str, str]:
    """(opener, verb): an adverb joins a following known verb (``深入`` + ``推进`` → ``深入推进``)."""
    if not w:
        return "", ""
    if len(w) == 4 and w[:2] in MODIFIERS and w[2:] in verbset:  # 认真落实 (one dictionary word)
        return w, w[2:]
    if w in MODIFIERS:
        nxt = d.longest(rest) if rest and _CJK_RE.match(rest[0]) else ""
        if nxt in verbset and nxt not in MODIFIERS:
            return w + nxt, nxt
        return w, (w if w in _VERBAL_MODIFIERS else "")  # 加快城市更新, 深入基层: the predicate itself
    return w, w


def _head(s: str, d: _Dict, verbset: set[str] | frozenset[str], first_clause: bool = True) -> tuple[str, str]:
    """(opener, verb) of a sentence: ``一是深入推进项目…`` → ("深入推进", "推进")."""
    w, rest = _first_word(s, d, first_clause)
    return _compose(w, rest, d, verbset)


def _percentiles(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    v = sorted(values)

    def q(p: float) -> float:
        k = (len(v) - 1) * p
        lo = int(k)
        hi = min(lo + 1, len(v) - 1)
        return round(v[lo] + (v[hi] - v[lo]) * (k - lo), 1)

    return {"median": q(0.5), "p10": q(0.1), "p90": q(0.9), "mean": round(sum(v) / len(v), 1)}


def _enum_family(marker: str) -> str:
    if marker in ("首先", "其次", "再次", "最后"):
        return "首先/其次"
    if marker.startswith("第"):
        return "第一/第二"
    if marker.endswith("要"):
        return "一要/二要"
    return "一是/二是"


def closing_frame(sentence: str) -> str:
    """The closing formula of a sentence with its specifics replaced by …; "" when it has none.

    ``今后，我们将再接再厉，…不断把创建文明城市工作推向新高度。`` → ``…推向新高度``;
    ``…为建设美丽新宁夏、共圆伟大中国梦而团结奋斗！`` → ``为…而努力奋斗``.
    """
    best: tuple[bool, int, str] | None = None
    for pattern, frame, strong in _CLOSING_FORMULAS:
        for m in pattern.finditer(sentence):
            key = (strong, m.end(), frame.format(m.group()))
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else ""


def _body_lines(text: str) -> tuple[list[str], list[str]]:
    """(heading lines, body lines) of a chunk text or a draft."""
    heads: list[str] = []
    body: list[str] = []
    for line in text.splitlines():
        s = line.strip(" \t\u3000\xa0")
        if not s:
            continue
        (heads if heading_level(s) else body).append(s)
    return heads, body


# --------------------------------------------------------------------------------------------
# build


def build_profile(chunks: Iterable[Chunk], fingerprint: str = "") -> StyleProfile:
    """Count the house style of ``chunks`` (see the module docstring for every statistic)."""
    d = _jieba_dict()
    n_chunks = 0
    doc_ids: list[str] = []
    seen_docs: set[str] = set()
    doc_headings: dict[str, dict[str, int]] = defaultdict(dict)  # doc -> heading -> level (ordered)
    doc_enums: dict[str, set[str]] = defaultdict(set)
    doc_last: dict[str, tuple[int, str]] = {}
    section_len: dict[tuple[str, tuple[str, ...]], int] = defaultdict(int)
    openers: Counter[str] = Counter()
    verbs: Counter[str] = Counter()
    sentence_lengths: list[int] = []
    docs_we: set[str] = set()
    docs_i: set[str] = set()

    firsts: list[tuple[str, str]] = []  # sentence-initial (word, rest)
    clause_firsts: list[tuple[str, str]] = []
    for c in chunks:
        n_chunks += 1
        if c.doc_id not in seen_docs:
            seen_docs.add(c.doc_id)
            doc_ids.append(c.doc_id)
        heads = doc_headings[c.doc_id]
        for h in c.heading_path:
            heads.setdefault(h, 0)
        inline, body = _body_lines(c.text)
        for h in inline:
            heads.setdefault(h, 0)
        body_text = "\n".join(body)
        section_len[(c.doc_id, tuple(c.heading_path))] += len(body_text.replace("\n", ""))
        doc_enums[c.doc_id].update(find_enumerations(body_text))
        if _WE_RE.search(body_text):
            docs_we.add(c.doc_id)
        if _bare_i(body_text):
            docs_i.add(c.doc_id)
        if body and (c.doc_id not in doc_last or c.position > doc_last[c.doc_id][0]):
            doc_last[c.doc_id] = (c.position, body[-1])
        for line in body:
            for sent in split_sentences(line):
                if len(sent) < 2:
                    continue
                sentence_lengths.append(len(sent))
                firsts.append(_first_word(sent, d))
                for k, clause in enumerate(_CLAUSE_SPLIT_RE.split(sent)):
                    if len(clause) >= 2:
                        clause_firsts.append(_first_word(clause, d, first_clause=k == 0))

    # verbs: plain clause heads (no adverb) seen at least 3 times make the verb set; an adverb
    # then counts the known verb after it
    plain = Counter(w for w, _r in clause_firsts if w and w not in MODIFIERS)
    verbset = {w for w, n in plain.items() if n >= 3}
    for w, rest in clause_firsts:
        _o, verb = _compose(w, rest, d, verbset)
        if verb:
            verbs[verb] += 1
    for w, rest in firsts:
        opener, _v = _compose(w, rest, d, verbset)
        if opener:
            openers[opener] += 1

    # headings: once per document, marker levels only
    patterns: dict[int, Counter[str]] = defaultdict(Counter)
    by_level: dict[int, list[tuple[str, str, str]]] = defaultdict(list)  # level -> (doc, text, pattern)
    for doc in doc_ids:
        for h in doc_headings[doc]:
            level, text = strip_marker(h)
            if not level or not text or text.endswith("…"):
                continue
            pat = heading_pattern(text)
            if not pat:
                continue
            patterns[level][pat] += 1
            by_level[level].append((doc, text, pat))
    headings = {lvl: patterns[lvl].most_common(TOP_PATTERNS) for lvl in sorted(patterns)}
    examples = {lvl: _pick_examples(by_level[lvl], [p for p, _ in headings[lvl]]) for lvl in headings}

    fam_docs: Counter[str] = Counter()
    for doc in doc_ids:
        fams: dict[str, set[str]] = defaultdict(set)
        for marker in doc_enums[doc]:
            fams[_enum_family(marker)].add(marker)
        for fam, markers in fams.items():
            if len(markers) >= 2:
                fam_docs[fam] += 1

    frames: Counter[str] = Counter()
    for doc in doc_ids:
        if doc in doc_last:
            sents = split_sentences(doc_last[doc][1])
            frame = closing_frame(sents[-1]) if sents else ""
            if frame:
                frames[frame] += 1

    n_docs = len(doc_ids)
    return StyleProfile(
        fingerprint=fingerprint,
        docs=n_docs,
        chunks=n_chunks,
        headings=headings,
        heading_examples=examples,
        enumerations=fam_docs.most_common(),
        openers=openers.most_common(TOP_WORDS),
        verbs=verbs.most_common(TOP_WORDS),
        sentence_chars=_percentiles(sentence_lengths),
        section_chars=_percentiles([n for n in section_len.values() if n > 0]),
        closings=frames.most_common(TOP_CLOSINGS),
        first_person={
            "我们": round(len(docs_we) / n_docs, 3) if n_docs else 0.0,
            "我": round(len(docs_i) / n_docs, 3) if n_docs else 0.0,
        },
    )


def _pick_examples(items: list[tuple[str, str, str]], top: list[str]) -> list[str]:
    """Real headings for the most common patterns: one per pattern in turn (most common first),
    from a document not used yet while there is one; corpus order within a pattern."""
    queues: dict[str, list[tuple[str, str]]] = {p: [] for p in top}
    for doc, text, pat in items:
        if pat in queues and len(text) <= EXAMPLE_MAX_CHARS:
            queues[pat].append((doc, text))
    out: list[str] = []
    used_docs: set[str] = set()
    for strict in (True, False):
        progress = True
        while progress and len(out) < EXAMPLES_PER_LEVEL:
            progress = False
            for pat in top:
                q = queues[pat]
                k = next(
                    (i for i, (doc, text) in enumerate(q) if text not in out and not (strict and doc in used_docs)),
                    None,
                )
                if k is None:
                    continue
                doc, text = q.pop(k)
                out.append(text)
                used_docs.add(doc)
                progress = True
                if len(out) >= EXAMPLES_PER_LEVEL:
                    break
    return out


# --------------------------------------------------------------------------------------------
# cache in the store


def corpus_fingerprint(store: CorpusStore) -> str:
    """The store's keyword fingerprint, computed from the collection's chunk ids.

    The same value as ``store.keyword().fingerprint`` once the keyword index is in sync, but always
    current (another process or store object may have ingested since) and without loading BM25.
    """
    from drafting.keyword import fingerprint

    return fingerprint(row[0] for row in store._iter_rows([]))


BUREAU_RE = re.compile(r"住建|住房和城乡建设|住房城乡建设|建设局|建设和管理委员会|建设管理委|建委")


def prefer_bureau(chunks: list[Chunk]) -> list[Chunk]:
    """The bureau's own documents when others outnumber them, else every chunk.

    A document is the bureau's own when its issuer or title names a 住建 body (``市住建局``,
    ``…住房和城乡建设管理委员会…``).  A corpus that mixes in more government work reports than the
    bureau's own material would otherwise take their style; a few outside documents do not matter.
    """
    own = {c.doc_id for c in chunks if BUREAU_RE.search(f"{c.issuer} {c.title}")}
    others = {c.doc_id for c in chunks} - own
    if len(own) >= 2 and len(others) > len(own):
        return [c for c in chunks if c.doc_id in own]
    return chunks


def load_or_build(store: CorpusStore) -> StyleProfile:
    """The store's profile, cached in ``<store>/style.json`` and rebuilt when the corpus changed.

    The cache is keyed by the corpus fingerprint (a hash of every chunk id, as the keyword index
    uses), so ingesting, updating or removing a document rebuilds it.  A cache that cannot be read
    is rebuilt; one that cannot be written is not an error.
    """
    from drafting.store import chunk_from_row

    fp = corpus_fingerprint(store)
    path = store.settings.store_path() / STYLE_FILE
    try:
        cached = StyleProfile.from_json(json.loads(path.read_text(encoding="utf-8")))
        if cached.fingerprint == fp:
            return cached
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    rows = store._iter_rows(["documents", "metadatas"])
    profile = build_profile(prefer_bureau([chunk_from_row(i, t or "", m) for i, t, m in rows]), fingerprint=fp)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{STYLE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(profile.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return profile


# --------------------------------------------------------------------------------------------
# conformance


@dataclass
class Conformance:
    score: float  # 0–100
    notes: list[str]  # Chinese; each says what to change
    parts: dict[str, float] = field(default_factory=dict)  # points earned per check

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 1), "notes": list(self.notes), "parts": dict(self.parts)}


_WEIGHTS = {"标题层级": 20.0, "句子长度": 20.0, "常用开头": 15.0, "列举方式": 10.0, "人称": 10.0, "格式残留": 15.0, "结尾": 10.0}

def _heading_number(level: int, line: str) -> int:
    m = re.match(r"^[（(]?([一二三四五六七八九十]{1,3}|\d{1,2})", line.strip())
    if not m:
        return 0
    tok = m.group(1)
    if tok.isdigit():
        return int(tok)
    return cn_to_int(tok) or 0


def _check_headings(lines: list[str]) -> list[str]:
    heads = [(heading_level(s), s) for s in lines if heading_level(s)]
    notes: list[str] = []
    if not heads:
        return notes
    levels = [lvl for lvl, _ in heads]
    has_l1 = 1 in levels
    first_l1 = levels.index(1) if has_l1 else -1
    if has_l1 and first_l1 > 0:
        lvl, s = heads[0]
        notes.append(
            f"标题层级顺序不对：“{s[:16]}”（{LEVEL_MARKERS[lvl]}级）出现在第一个一级标题“一、”之前，"
            f"应先写“一、”再写“{LEVEL_MARKERS[lvl]}”"
        )
    root = 1 if has_l1 else min(levels)
    cur = root - 1
    skipped = ""
    start = first_l1 if has_l1 else 0
    for lvl, s in heads[start:]:
        if lvl > cur + 1 and not skipped:
            skipped = (
                f"标题跳级：“{s[:16]}”（{LEVEL_MARKERS[lvl]}级）前缺少“{LEVEL_MARKERS[lvl - 1]}”级标题，"
                f"应按“一、”“（一）”“1.”“（1）”逐级使用"
            )
        cur = lvl
    if skipped:
        notes.append(skipped)
    expected: dict[int, int] = {}
    gap = ""
    for lvl, s in heads:
        num = _heading_number(lvl, s)
        want = expected.get(lvl, 1)
        if num and num != want and not gap:
            gap = f"标题序号不连续：“{s[:16]}”处应为第{want}项，请按顺序编号"
        expected[lvl] = (num or want) + 1
        for deeper in [k for k in expected if k > lvl]:
            del expected[deeper]
    if gap:
        notes.append(gap)
    half = [s for _l, s in heads if _HALF_PAREN_HEADING_RE.match(s)]
    if half:
        notes.append(f"标题序号应使用全角括号，如“（一）”“（1）”，不要写成“{half[0][:4]}”")
    return notes


def _list_items(body: list[str]) -> int:
    """Largest run of list-looking lines: bullets, or short lines without a full stop."""
    best = run = 0
    for s in body:
        if _BULLET_RE.match(s) or (len(s) <= 30 and not re.search(r"[。！？]", s)):
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best


def conformance(text: str, profile: StyleProfile, *, whole_document: bool | None = None) -> Conformance:
    """Score ``text`` (a section or a whole draft) against the house style; see the module docstring.

    ``whole_document`` None means: a whole document when the text has two or more ``一、`` headings.
    """
    lines = [s.strip(" \t\u3000\xa0") for s in text.splitlines()]
    lines = [s for s in lines if s]
    heads, body = _body_lines(text)
    notes: list[str] = []
    parts = dict(_WEIGHTS)
    d = _jieba_dict()

    def lose(part: str, points: float) -> None:
        parts[part] = max(0.0, parts[part] - points)

    # 标题层级
    head_notes = _check_headings(lines)
    if head_notes:
        lose("标题层级", 10.0 * len(head_notes))
        notes.extend(head_notes)

    # 句子长度
    clean_body = [_MD_BOLD_RE.sub("", _BULLET_RE.sub("", s)) for s in body]
    sentences = [s for line in clean_body for s in split_sentences(line) if len(s) >= 2]
    med, p10, p90 = (profile.sentence_stat(k) for k in ("median", "p10", "p90"))
    if sentences:
        lengths = [len(s) for s in sentences]
        mean = sum(lengths) / len(lengths)
        longest = max(lengths)
        if mean > p90:
            lose("句子长度", 12.0)
            notes.append(
                f"句子偏长：平均{mean:.0f}字，本局材料中位数{med:.0f}字（90%的句子不超过{p90:.0f}字），"
                "请在“，”处断句，拆成几个短句"
            )
        if longest > 2 * p90:
            lose("句子长度", 8.0)
            notes.append(f"有一句长达{longest}字（超过{2 * p90:.0f}字），请拆分")
        elif mean < p10 and len(sentences) >= 3:
            lose("句子长度", 6.0)
            notes.append(f"句子过碎：平均{mean:.0f}字，本局材料中位数{med:.0f}字，可把短句合并成完整的句子")

    # 常用开头
    stock = profile.opener_set()
    verbset = {w for w, _n in profile.verbs}
    if len(sentences) >= 3 and stock:
        hits = 0
        for s in sentences:
            opener, verb = _head(s, d, verbset)
            if opener and (opener in stock or verb in stock):
                hits += 1
        share = hits / len(sentences)
        if share < 0.3:
            lose("常用开头", 15.0 * (1 - share / 0.3))
            top = "、".join(w for w, _ in profile.openers[:5]) or "坚持、深入推进、扎实开展"
            notes.append(f"常用开头词偏少：仅{share:.0%}的句子以本局常用动词开头，可多用{top}等开头")

    # 列举方式
    n_items = _list_items(body)
    if n_items >= 3:
        fam_markers = [_enum_family(m) for m in find_enumerations("\n".join(body))]
        if len(fam_markers) < 2:
            lose("列举方式", 10.0)
            fam = profile.enumerations[0][0] if profile.enumerations else "一是/二是"
            notes.append(f"列举了{n_items}项却没有用列举句式：请改成“{_family_example(fam)}”连贯叙述，不要逐条罗列")

    # 人称
    body_text = "\n".join(body)
    bare = len(_bare_i(body_text))
    if bare and profile.first_person.get("我", 0.0) < 0.2:
        lose("人称", 10.0)
        notes.append(f"出现第一人称“我”{bare}处：公文应以单位口吻，改为“我局”或省略主语")
    we = len(_WE_RE.findall(body_text))
    if we and profile.first_person.get("我们", 0.0) < 0.2:
        lose("人称", 5.0)
        notes.append(f"“我们”出现{we}处，本局材料很少这样写，建议改为“我局”或省略主语")

    # 格式残留
    art: list[str] = []
    n_bold = (len(_MD_BOLD_RE.findall(text)) + 1) // 2
    if n_bold:
        art.append(f"删除Markdown加粗符号“**”（{n_bold}处），需要强调的内容改为小标题或“一是……”句式")
    if _MD_HEADING_RE.search(text):
        art.append("删除行首的“#”号，标题改用“一、”“（一）”“1.”“（1）”编号")
    n_dash = len(_DASH_BULLET_RE.findall(text)) + len(_ROUND_BULLET_RE.findall(text))
    if n_dash:
        art.append(f"删除行首的项目符号“-”“•”（{n_dash}处），改为“一是……二是……”或成段叙述")
    if _CODE_RE.search(text):
        art.append("删除代码块或引用符号（```、>）")
    english = [w for w in _ENGLISH_RE.findall(text) if len(w) >= 3 and w not in _ENGLISH_OK]
    if english:
        art.append(f"出现英文“{english[0]}”等{len(english)}处，请改为中文表述")
    ascii_p = _ASCII_PUNCT_RE.findall(text)
    if ascii_p:
        art.append(f"中文之间使用了半角标点“{ascii_p[0]}”（{len(ascii_p)}处），请改为全角标点")
    if art:
        lose("格式残留", 5.0 * len(art))
        notes.extend(art)

    # 结尾
    whole = whole_document if whole_document is not None else sum(1 for h in heads if heading_level(h) == 1) >= 2
    if whole and sentences:
        last = sentences[-1]
        if not closing_frame(last):
            lose("结尾", 10.0)
            example = profile.closings[0][0] if profile.closings else "…推向新高度"
            notes.append(f"全文缺少收束语：结尾可参照本局材料常用写法，如“{example}”")

    score = round(sum(parts.values()), 1)
    return Conformance(score=max(0.0, min(100.0, score)), notes=notes, parts=parts)
