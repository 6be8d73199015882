"""A whole document: type, title, 落款, 成文日期 and an ordered outline whose nodes are sections.

Each outline node (level 1 ``一、`` or level 2 ``（一）``) names the history *session* its section's
versions are saved under, so a node is drafted, refined, checked and versioned exactly as a loose
section is (:mod:`drafting.drafter`, :mod:`drafting.history`).  A node's heading number is never
stored: it comes from the node's position (:meth:`Document.numbered`), so reordering renumbers.

A node's text is its *accepted* version: the newest version of its session that is not a failed
stream (``partial``, or a checkpoint still marked ``streaming``) and has words in it.  Its status:

* 未起草 – no accepted version;
* 需复核 – the accepted text, checked now with every source of the section (the request, the writer's
  edits and confirmations), has open problems (:func:`drafting.drafter.review`);
* 已检查 – no open problems and the version was saved with its checks;
* 已起草 – no open problems found now, but the version was saved without checks (an editor save not
  yet rechecked with 重新检查).

A level-1 node with children may stay a bare heading: without text it is 未起草 but export does not
ask about it; a leaf without text is listed before export.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drafting.crosscheck import CrossFinding, Part, check_document
from drafting.drafter import has_words, request_from_json, review
from drafting.errors import InputError
from drafting.export import Section
from drafting.headings import split_marker
from drafting.outline import Outline, heading_pattern, number
from drafting.provenance import confirmation_sources, session_sources

if TYPE_CHECKING:
    from drafting.history import History, Version

__all__ = ["STATUSES", "Document", "DocumentView", "Node", "NodeState", "accepted_version", "document_view",
           "export_sections", "node_state"]

STATUSES = ("未起草", "已起草", "需复核", "已检查")
MAX_NODES = 200
MAX_HEADING_CHARS = 60


def _new_session() -> str:
    return "doc-" + uuid.uuid4().hex[:16]


def _clean_heading(text: str) -> str:
    """A heading as the writer typed it, without a number they may have typed (``（二）城市更新``)."""
    text = " ".join((text or "").split())
    core = split_marker(text)[2] if split_marker(text)[0] else text
    core = core.strip()
    if not core or not has_words(core):
        raise InputError("提纲标题是空的或只有标点。请写明这一部分写什么，例如“城市更新”。")
    if len(core) > MAX_HEADING_CHARS:
        raise InputError(f"提纲标题有{len(core)}字，超过{MAX_HEADING_CHARS}字。标题写一句话即可，"
                         "正文放到要点里。")
    return core


@dataclass
class Node:
    level: int  # 1 (一、) or 2 (（一）)
    text: str  # the heading without its number
    session: str = field(default_factory=_new_session)
    source: str = ""  # the past document a proposed heading was taken from ("" once renamed or added)

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "text": self.text, "session": self.session, "source": self.source}


@dataclass
class Document:
    doc_type: str
    title: str
    issuer: str = ""
    date: str = ""
    nodes: list[Node] = field(default_factory=list)
    id: int | None = None

    # ---- building ---------------------------------------------------------------------------
    @classmethod
    def from_outline(cls, outline: Outline, *, issuer: str = "", date: str = "") -> Document:
        nodes = []
        for n in outline.nodes:
            nodes.append(Node(1, n.text, source=n.source))
            nodes += [Node(2, c.text, source=c.source) for c in n.children]
        return cls(outline.doc_type, outline.title, issuer, date, nodes)

    @classmethod
    def load(cls, history: History, user: str, doc_id: int) -> Document:
        stored = history.get_document(user, doc_id)
        if stored is None:
            raise InputError("找不到这篇文稿（可能已被删除，或属于其他账号）。请在“文稿”页的列表里重新选择。")
        nodes = [Node(int(n["level"]), str(n["text"]), str(n["session"]), str(n.get("source", "")))
                 for n in stored.outline]
        return cls(stored.doc_type, stored.title, stored.issuer, stored.date, nodes, stored.id)

    def save(self, history: History, user: str) -> int:
        if not self.title.strip():
            raise InputError("文稿标题是空的。请先填写标题，例如“市住建局2024年工作总结”。")
        self.id = history.save_document(user, doc_type=self.doc_type, title=self.title.strip(),
                                        issuer=self.issuer.strip(), date=self.date.strip(),
                                        outline=[n.to_json() for n in self.nodes], doc_id=self.id)
        return self.id

    # ---- numbering --------------------------------------------------------------------------
    def numbered(self) -> list[tuple[Node, str]]:
        """Every node with its heading, numbered by position: 一、 … and （一） … restarting
        under each 一、."""
        out = []
        first = second = 0
        for n in self.nodes:
            if n.level == 1:
                first, second = first + 1, 0
                out.append((n, number(1, first) + n.text))
            else:
                second += 1
                out.append((n, number(2, second) + n.text))
        return out

    def patterns(self) -> dict[str, str]:
        """Each node's heading pattern (四字短语, 「聚焦…，做实…」, 对仗 with its siblings), from its
        current wording: a renamed heading that breaks the 对仗 of its siblings shows it."""
        groups: dict[tuple[int, int], list[Node]] = {}
        parent = -1
        for i, n in enumerate(self.nodes):
            if n.level == 1:
                parent = i
                groups.setdefault((1, -1), []).append(n)
            else:
                groups.setdefault((2, parent), []).append(n)
        out = {}
        for nodes in groups.values():
            texts = [n.text for n in nodes]
            for n in nodes:
                out[n.session] = heading_pattern(n.text, texts)
        return out

    def heading_of(self, session: str) -> str:
        """The numbered heading of the node ``session`` (:class:`InputError` when it is not in the
        outline)."""
        self._index(session)
        return next(h for n, h in self.numbered() if n.session == session)

    def has_children(self, node: Node) -> bool:
        i = self._index(node.session)
        return node.level == 1 and i + 1 < len(self.nodes) and self.nodes[i + 1].level == 2

    # ---- editing ----------------------------------------------------------------------------
    def index(self, session: str) -> int:
        """The position of the node ``session`` (:class:`InputError` when it is not in the outline)."""
        return self._index(session)

    def _index(self, session: str) -> int:
        for i, n in enumerate(self.nodes):
            if n.session == session:
                return i
        raise InputError("提纲里没有这一项了（可能刚被删除）。请在提纲表里重新选择。")

    def _block(self, i: int) -> tuple[int, int]:
        """[start, end) of node ``i`` and, for a level-1 node, its level-2 children."""
        end = i + 1
        if self.nodes[i].level == 1:
            while end < len(self.nodes) and self.nodes[end].level == 2:
                end += 1
        return i, end

    def add(self, level: int, text: str, after: str | None = None) -> Node:
        """A new node after the node ``after`` (a level-1 node goes after that node's children), or
        at the end."""
        if level not in (1, 2):
            raise InputError("提纲只有两级：一级标题（一、）和二级标题（（一））。")
        if len(self.nodes) >= MAX_NODES:
            raise InputError(f"提纲已有{MAX_NODES}项，不能再加。请合并相近的部分。")
        node = Node(level, _clean_heading(text))
        if after is None:
            at = len(self.nodes)
        else:
            i = self._index(after)
            if level == 1:  # after the whole part the selected node belongs to
                while i > 0 and self.nodes[i].level == 2:
                    i -= 1
                at = self._block(i)[1] if self.nodes[i].level == 1 else i + 1
            else:
                at = i + 1
        self.nodes.insert(at, node)
        return node

    def remove(self, session: str) -> list[Node]:
        """Remove a node (a level-1 node with its children); their versions stay in history."""
        start, end = self._block(self._index(session))
        removed = self.nodes[start:end]
        del self.nodes[start:end]
        return removed

    def rename(self, session: str, text: str) -> None:
        node = self.nodes[self._index(session)]
        node.text, node.source = _clean_heading(text), ""

    def move(self, session: str, delta: int) -> None:
        """Move a node one place up (-1) or down (+1) among its siblings; a level-1 node moves with its
        children; a level-2 node stays under its level-1 heading."""
        i = self._index(session)
        node = self.nodes[i]
        start, end = self._block(i)
        if node.level == 2:
            j = i + delta
            if not (0 <= j < len(self.nodes)) or self.nodes[j].level != 2:
                where = "第一项" if delta < 0 else "最后一项"
                raise InputError(f"“{node.text}”已是本部分的{where}。要移到别的一级标题下，"
                                 "请删除后在那里添加。")
            self.nodes[i], self.nodes[j] = self.nodes[j], self.nodes[i]
            return
        heads = [k for k, n in enumerate(self.nodes) if n.level == 1]
        pos = heads.index(i) + delta
        if not 0 <= pos < len(heads):
            raise InputError(f"“{node.text}”已是{'第一' if delta < 0 else '最后'}个一级标题。")
        block = self.nodes[start:end]
        del self.nodes[start:end]
        heads = [k for k, n in enumerate(self.nodes) if n.level == 1]
        at = heads[pos] if delta < 0 else self._block(heads[pos - 1])[1]
        self.nodes[at:at] = block


# --------------------------------------------------------------------------------------------
# sections and their state


def accepted_version(history: History, user: str, session: str, level: int = 2) -> Version | None:
    """The newest version of a section that counts: not a failed or unfinished stream, and with words
    beyond its own heading line (a version that is only ``（二）城市更新`` or punctuation is junk)."""
    for v in history.versions(user, limit=1_000, session=session):
        if v.kind == "partial" or v.inputs.get("streaming"):
            continue
        if has_words(body_of(v.text, level)):
            return v
    return None


def body_of(text: str, level: int) -> str:
    """A section's text without its own first heading line of the node's level (the document numbers
    it by position: a section drafted as （二） and moved up must not print （二） under （一））."""
    lines = text.strip().split("\n")
    if lines and split_marker(lines[0])[0] == level:
        rest = split_marker(lines[0])[2]
        if len(rest) <= MAX_HEADING_CHARS and not any(ch in rest for ch in "。！？"):
            lines = lines[1:]
    return "\n".join(lines).strip()


@dataclass
class NodeState:
    node: Node
    heading: str  # numbered
    status: str  # one of STATUSES
    version: Version | None
    text: str  # the body, without the section's own heading line
    words: int
    figure_problems: list[str]
    term_problems: list[str]
    leaf: bool

    @property
    def problems(self) -> list[str]:
        return [*self.figure_problems, *self.term_problems]


@dataclass
class DocumentView:
    document: Document
    states: list[NodeState]

    @property
    def words(self) -> int:
        return sum(s.words for s in self.states)

    @property
    def figure_problems(self) -> int:
        return sum(len(s.figure_problems) for s in self.states)

    @property
    def term_problems(self) -> int:
        return sum(len(s.term_problems) for s in self.states)

    def counts(self) -> dict[str, int]:
        return {k: sum(1 for s in self.states if s.status == k) for k in STATUSES}

    def findings(self) -> list[CrossFinding]:
        """The checks across sections (:mod:`drafting.crosscheck`) on the accepted texts."""
        return check_document([Part(s.heading, s.node.level, s.text) for s in self.states])

    def unfinished(self) -> list[str]:
        """What export asks about: every leaf still 未起草 and every section 需复核, with its problems."""
        out = []
        for s in self.states:
            if s.status == "未起草" and s.leaf:
                out.append(f"{s.heading}：未起草")
            out += [f"{s.heading}：{p}" for p in s.problems]
        return out


def word_count(text: str) -> int:
    """字数 as writers count it: every character that is not white space."""
    return sum(1 for ch in text if not ch.isspace())


def _problems(history: History, user: str, session: str, v: Version) -> tuple[list[str], list[str]]:
    req = request_from_json(v.inputs)
    versions = history.versions(user, limit=1_000_000, session=session)
    sources = [*req.sources(), *session_sources(versions),
               *confirmation_sources(history.confirmations(user, session))]
    result = review(v.text, sources, req.pairs())
    g = result.figures
    figures = []
    if g.missing:
        figures.append("漏写数字：" + "、".join(f.raw for f in g.missing))
    figures += [f.message for f in g.unverified]
    figures += [f"推算有误：{d.explanation}" for d in g.derived if not d.ok]
    terms = [f"提法（{t.severity}）：“{t.found}”应为“{t.suggest}”" for t in result.terms
             if t.severity == "必错"]
    return figures, terms


def node_state(history: History, user: str, doc: Document, node: Node, heading: str) -> NodeState:
    leaf = not doc.has_children(node)
    v = accepted_version(history, user, node.session, node.level)
    if v is None:
        return NodeState(node, heading, "未起草", None, "", 0, [], [], leaf)
    figures, terms = _problems(history, user, node.session, v)
    if figures or terms:
        status = "需复核"
    elif v.checks.get("status"):
        status = "已检查"
    else:
        status = "已起草"
    body = body_of(v.text, node.level)
    return NodeState(node, heading, status, v, body, word_count(body), figures, terms, leaf)


def document_view(history: History, user: str, doc: Document) -> DocumentView:
    """Every node in outline order with its status, and the document's totals."""
    return DocumentView(doc, [node_state(history, user, doc, n, h) for n, h in doc.numbered()])


def export_sections(view: DocumentView) -> list[Section]:
    """The document's sections for :mod:`drafting.export`, in outline order: numbered heading, the
    accepted text, and as problems whatever is still 需复核, (a leaf) 未起草, or found across sections
    (with the first section it concerns)."""
    out = []
    for s in view.states:
        problems = list(s.problems) + (["未起草"] if s.status == "未起草" and s.leaf else [])
        out.append(Section(s.heading, s.text, problems))
    by_heading = {sec.heading: sec for sec in out}
    for f in view.findings():
        if f.where and f.where[0] in by_heading:
            by_heading[f.where[0]].problems.append(f.message)
    return out
