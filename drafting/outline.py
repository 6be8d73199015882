"""A proposed outline for a new document, mined from the bureau's past documents of its type.

    propose(store, settings, doc_type, title) ─ past documents of the type in the store
        ─ heading tree of each (chunk heading paths + heading lines merged into a chunk's text)
        ─ the backbone: the document with the most distinct parts (成效 / 问题 / 下一步 …), then the
          most headings, then the newest
        ─ parts most past documents have and the backbone lacks are added at their usual place
        ─ every heading's pattern (四字短语, 「聚焦…，做实…」, 对仗 among its siblings) and where it came from

Nothing is invented: every proposed heading is a heading of a past document (a 半年 part such as
「下半年工作计划」 reads 「下一步工作计划」 when the new title is not a half-year one).  With fewer
than ``settings.outline_min_docs`` documents of the type, the nearest types' documents are added and
the outline says so; with none at all it is empty and says what to import.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from drafting.headings import heading_level, split_marker
from drafting.numerals import int_to_cn
from drafting.settings import Settings
from drafting.store import CorpusStore, DocInfo

__all__ = [
    "DOC_TYPES",
    "Outline",
    "OutlineNode",
    "PastDoc",
    "heading_pattern",
    "number",
    "past_documents",
    "propose",
    "role_of",
    "shape",
]

DOC_TYPES = ("工作总结", "工作汇报", "发言材料", "工作要点", "实施方案")
# the store's doc_type values (structure._doc_type) that count as each document type
FAMILY: dict[str, tuple[str, ...]] = {
    "工作总结": ("工作总结", "半年工作总结"),
    "工作汇报": ("汇报材料",),
    "发言材料": ("发言材料",),
    "工作要点": ("工作要点", "工作计划"),
    "实施方案": ("实施方案", "工作方案", "行动方案", "实施计划", "行动计划"),
}
NEAREST: dict[str, tuple[str, ...]] = {
    "工作总结": ("工作汇报", "发言材料"),
    "工作汇报": ("工作总结", "发言材料"),
    "发言材料": ("工作汇报", "工作总结"),
    "工作要点": ("实施方案", "工作总结"),
    "实施方案": ("工作要点",),
}
# what a level-1 part does, by the words of its heading; a heading with none of them is a topic (主体)
ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("问题", ("存在问题", "问题", "不足", "差距", "短板", "困难")),
    ("下一步", ("下一步", "下半年", "明年", "打算", "工作计划", "工作思路", "工作安排", "重点工作")),
    ("总体要求", ("总体要求", "指导思想", "工作目标", "基本原则", "目标任务")),
    ("保障", ("保障措施", "组织领导", "工作要求", "组织保障")),
    ("成效", ("工作开展情况", "主要工作", "工作成效", "工作回顾", "主要做法", "取得成效", "基本情况",
              "工作情况", "主要成效", "工作进展")),
)
TOPIC = "主体"


@dataclass
class OutlineNode:
    level: int  # 1 (一、) or 2 (（一）)
    text: str  # the heading without its number
    pattern: str = ""  # 四字短语, 「聚焦…，做实…」, 对仗 …
    source: str = ""  # the past document it was taken from
    children: list[OutlineNode] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "text": self.text, "pattern": self.pattern, "source": self.source,
                "children": [c.to_json() for c in self.children]}


@dataclass
class PastDoc:
    doc_id: str
    title: str
    year: int
    doc_type: str
    tree: list[tuple[str, list[str]]]  # (一级 heading, its 二级 headings), without numbers


@dataclass
class Outline:
    doc_type: str
    title: str
    nodes: list[OutlineNode]
    basis: list[str]  # titles of the past documents mined
    notes: list[str]  # in Chinese: what the outline rests on, what is missing
    past: list[PastDoc] = field(default_factory=list)  # the documents mined, with their heading trees

    def flat(self) -> list[OutlineNode]:
        out = []
        for n in self.nodes:
            out.append(n)
            out.extend(n.children)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"doc_type": self.doc_type, "title": self.title, "basis": self.basis, "notes": self.notes,
                "nodes": [n.to_json() for n in self.nodes],
                "past": [{"title": d.title, "doc_type": d.doc_type, "year": d.year,
                          "headings": [{"text": h, "children": kids} for h, kids in d.tree]}
                          for d in self.past]}

    def render(self) -> str:
        """The outline as text: title, notes, numbered headings with pattern and source."""
        lines = [self.title, *(f"※ {n}" for n in self.notes), ""]
        usual = Counter(n.source for n in self.flat()).most_common(1)
        common = usual[0][0] if usual else ""
        for i, n in enumerate(self.nodes, 1):
            lines.append(number(1, i) + n.text + _about(n, common))
            for j, c in enumerate(n.children, 1):
                lines.append("    " + number(2, j) + c.text + _about(c, common))
        if len(self.past) > 1:
            lines += ["", "往年同类材料的一级标题（按原文顺序）："]
            for d in self.past:
                heads = "；".join(number(1, i) + h for i, h in enumerate((h for h, _k in d.tree if h), 1))
                lines.append(f"《{d.title}》：{heads}")
        return "\n".join(lines).rstrip() + "\n"


def _about(n: OutlineNode, common: str) -> str:
    """`（pattern；取自《…》）`, the source only when it is not the outline's backbone (named in
    the notes)."""
    parts = [p for p in (n.pattern, f"取自《{n.source}》" if n.source and n.source != common else "") if p]
    return f"  （{'；'.join(parts)}）" if parts else ""


def number(level: int, n: int) -> str:
    """The heading number of the ``n``-th (1-based) heading of a level: 一、 / （一） / 1. / （1）."""
    if level == 1:
        return f"{int_to_cn(n)}、"
    if level == 2:
        return f"（{int_to_cn(n)}）"
    if level == 3:
        return f"{n}."
    return f"（{n}）"


def role_of(heading: str) -> str:
    """What a level-1 part does (成效, 问题, 下一步, 总体要求, 保障), or 主体 for a topic heading."""
    text = split_marker(heading)[2]
    for role, words in ROLES:
        if any(w in text for w in words):
            return role
    return TOPIC


# --------------------------------------------------------------------------------------------
# patterns

_CLAUSE_RE = re.compile(r"[，,；;]")


def _core(heading: str) -> str:
    return split_marker(heading)[2].rstrip("。.；;：:")


def _clauses(heading: str) -> list[str]:
    return [c for c in _CLAUSE_RE.split(_core(heading)) if c]


def _parallel(siblings: list[str]) -> str:
    """对仗 when at least two siblings share a shape: a common opening of ≥2 characters, or two or more
    clauses each with lengths within one character of each other; single phrases only when three or
    more have exactly the same length (生态宜居 / 健康舒适 / 安全韧性)."""
    cores = [_core(s) for s in siblings if _core(s)]
    if len(cores) < 2:
        return ""
    prefix = cores[0]
    for c in cores[1:]:
        while prefix and not c.startswith(prefix):
            prefix = prefix[:-1]
    if len(prefix.rstrip("，,")) >= 2:
        return f"对仗（同以“{prefix.rstrip('，,')}”起句）"
    shapes = [[len(x) for x in _clauses(s)] for s in cores]
    if len({len(s) for s in shapes}) != 1:
        return ""
    if len(shapes[0]) >= 2 and all(max(col) - min(col) <= 1 for col in zip(*shapes, strict=True)):
        return "对仗（各条句式、字数相同）"
    if len(shapes) >= 3 and len({s[0] for s in shapes}) == 1:  # single phrases: all the same length
        return "对仗（各条句式、字数相同）"
    return ""


def shape(heading: str) -> str:
    """The coarse shape of one heading: 四字短语, 四字短语并列, 两句式 (「…，…」) or 单句."""
    clauses = _clauses(heading)
    if len(clauses) >= 2 and all(len(c) == 4 for c in clauses):
        return "四字短语并列"
    if len(clauses) >= 2:
        return "两句式「…，…」"
    return "四字短语" if len(clauses) == 1 and len(clauses[0]) == 4 else "单句"


def heading_pattern(heading: str, siblings: list[str] | tuple[str, ...] = ()) -> str:
    """The shape of a heading: 四字短语, 四字短语并列, 「聚焦…，做实…」 (its clauses' openings), and
    对仗 when its siblings share its shape (``siblings`` includes the heading itself)."""
    clauses = _clauses(heading)
    labels = []
    if len(clauses) >= 2 and all(len(c) == 4 for c in clauses):
        labels.append("四字短语并列")
    elif len(clauses) >= 2 and all(len(c) >= 2 for c in clauses):
        labels.append("「" + "，".join(c[:2] + "…" for c in clauses) + "」")
    elif len(clauses) == 1 and len(clauses[0]) == 4:
        labels.append("四字短语")
    par = _parallel(list(siblings))
    if par:
        labels.append(par)
    return "，".join(labels)


# --------------------------------------------------------------------------------------------
# mining


def _tree(chunks: list[tuple[int, list[str], str]]) -> list[tuple[str, list[str]]]:
    """(一级, [二级…]) from a document's chunks (position, heading path, text), in document order."""
    heads: list[tuple[int, str]] = []
    for _pos, path, text in sorted(chunks, key=lambda c: c[0]):
        lines = [*path, *(ln.strip() for ln in text.splitlines())]
        for line in lines:
            level = heading_level(line)
            if level in (1, 2) and len(line) <= 60 and (not heads or heads[-1][1] != line) \
                    and line not in (h for _lv, h in heads):
                heads.append((level, line))
    tree: list[tuple[str, list[str]]] = []
    for level, line in heads:
        text = split_marker(line)[2]
        if level == 1:
            tree.append((text, []))
        elif tree:
            tree[-1][1].append(text)
        else:  # a document whose first parts are （一）: a level-1 part without a heading of its own
            tree.append(("", [text]))
    return tree


def _of_type(stored: str, store_types: tuple[str, ...]) -> bool:
    """A stored doc_type (detected, or a manifest's free text such as
    年度实施计划/行动方案/工作方案) is one of
    ``store_types`` when it names one of them."""
    return any(t in stored for t in store_types)


def past_documents(store: CorpusStore, store_types: tuple[str, ...],
                   catalogue: list[DocInfo] | None = None) -> list[PastDoc]:
    """The stored documents whose doc_type names one of ``store_types``, each with its heading tree
    (``catalogue``: ``store.documents()`` when the caller already has it)."""
    if not store_types or store.count() == 0:
        return []
    ids = [d.doc_id for d in (catalogue if catalogue is not None else store.documents())
           if _of_type(d.doc_type, store_types)]
    if not ids:
        return []
    rows: dict[str, list[tuple[int, list[str], str]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for _id, text, m in store.iter_rows(["metadatas", "documents"], where={"doc_id": {"$in": ids}}):
        rows.setdefault(m["doc_id"], []).append((int(m.get("position", 0)),
                                                 json.loads(m.get("heading_path", "[]")), text or ""))
        meta[m["doc_id"]] = m
    out = []
    for doc_id, chunks in rows.items():
        m = meta[doc_id]
        tree = _tree(chunks)
        if tree:
            out.append(PastDoc(doc_id, str(m.get("title", "")), int(m.get("year", 0)),
                               str(m.get("doc_type", "")), tree))
    return sorted(out, key=lambda d: (-d.year, d.title))


def _backbone(docs: list[PastDoc], primary: tuple[str, ...]) -> PastDoc:
    def key(d: PastDoc) -> tuple[int, int, int, int]:
        roles = {role_of(h) for h, _kids in d.tree} - {TOPIC}
        return (_of_type(d.doc_type, primary), len(roles), sum(1 + len(k) for _h, k in d.tree), d.year)

    return max(docs, key=key)


def _adapt(text: str, title: str) -> str:
    """A half-year part (下半年工作计划) in a document that is not a half-year one reads 下一步."""
    if "半年" not in title:
        text = text.replace("下半年", "下一步").replace("上半年", "")
    return text


def _node(level: int, text: str, siblings: list[str], source: str, title: str) -> OutlineNode:
    text = _adapt(text, title)
    return OutlineNode(level, text, heading_pattern(text, [_adapt(s, title) for s in siblings]), source)


def propose(store: CorpusStore, settings: Settings, doc_type: str, title: str) -> Outline:
    """The proposed outline of a new ``doc_type`` document called ``title`` (see the module docstring)."""
    if doc_type not in FAMILY:
        from drafting.errors import InputError

        raise InputError(f"不支持的文种“{doc_type}”。请选择：{'、'.join(DOC_TYPES)}。")
    title = title.strip()
    minimum = max(1, settings.outline_min_docs)
    catalogue = store.documents() if store.count() else []  # one scan of the metadata per proposal
    docs = past_documents(store, FAMILY[doc_type], catalogue)
    notes: list[str] = []
    own = len(docs)
    used = [doc_type]
    if own < minimum:
        for near in NEAREST[doc_type]:
            extra = past_documents(store, FAMILY[near], catalogue)
            if extra:
                docs += extra
                used.append(near)
            if len(docs) >= minimum:
                break
        if not docs:
            notes.append(f"语料库里没有{doc_type}，也没有相近文种（{'、'.join(NEAREST[doc_type])}）的往年材料，"
                         f"无法从本局材料归纳提纲。请先在“语料库”页导入往年的{doc_type}，或自己逐条添加提纲。")
            return Outline(doc_type, title, [], [], notes)
        near_n = len(docs) - own
        have = f"只有{own}篇{doc_type}（少于{minimum}篇）" if own else f"没有{doc_type}"
        notes.append(f"语料库里{have}，提纲{'同时' if own else '改为'}参照了相近文种"
                     f"（{'、'.join(used[1:])}）的{near_n}篇材料，请按本文需要增删改。")
    primary = FAMILY[doc_type]
    back = _backbone(docs, primary)
    source = back.title
    heads = [h for h, _k in back.tree]
    nodes = [_node(1, h, heads, source, title) for h in heads]
    for node, (_h, kids) in zip(nodes, back.tree, strict=True):
        node.children = [_node(2, k, kids, source, title) for k in kids]
    nodes = [n for n in nodes if n.text or n.children]
    # parts most past documents have and the backbone lacks, at their usual place
    roles = Counter(r for d in docs for r in {role_of(h) for h, _k in d.tree})
    back_roles = [role_of(n.text) for n in nodes]
    for role, n in roles.items():
        if role == TOPIC or role in back_roles or n * 2 < len(docs):
            continue
        donor = next(d for d in docs if any(role_of(h) == role for h, _k in d.tree))
        head, kids = next((h, k) for h, k in donor.tree if role_of(h) == role)
        node = _node(1, head, [head], donor.title, title)
        node.children = [_node(2, k, kids, donor.title, title) for k in kids]
        # after the last part that usually comes before it (成效 before 问题 before 下一步 …)
        rank = {"成效": 0, TOPIC: 0, "总体要求": 0, "问题": 1, "下一步": 2, "保障": 3}
        at = len(nodes)
        for i, r in enumerate(back_roles):
            if rank.get(r, 0) > rank.get(role, 0):
                at = i
                break
        nodes.insert(at, node)
        back_roles.insert(at, role)
    shapes = Counter(shape(h) for d in docs for h, _k in d.tree if h)
    usual = "、".join(f"{k}{v}处" for k, v in shapes.most_common(3))
    notes.insert(0, f"依据语料库中{len(docs)}篇往年材料（{'、'.join(used)}）归纳，结构取自《{source}》；"
                    f"往年一级标题的句式：{usual}。")
    return Outline(doc_type, title, nodes, [d.title for d in docs], notes, docs)
