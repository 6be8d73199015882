"""Plain data records passed between pipeline stages (load → parse → chunk → store → search)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LoadedText:
    """What a loader returns: the text, plus heading levels when the file format carries them."""

    text: str
    fmt: str  # "txt" | "md" | "docx" | "pdf"
    encoding: str = "utf-8"
    # (level, heading text) for paragraphs the source marked as headings (docx styles, md #).
    # Level 0 is the document title.
    styled_headings: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class DocMeta:
    """Document-level metadata; every field may be empty when it cannot be detected."""

    title: str = ""
    issuer: str = ""  # 发文单位 / region, e.g. "河南省驻马店市" or "市住建局"
    date: str = ""  # as written in the date line
    year: int = 0
    doc_type: str = ""  # 工作总结 / 汇报材料 / 政府工作报告 ...


@dataclass
class Section:
    """A run of body text under one heading path."""

    heading_path: list[str]
    level: int  # depth of the innermost heading (0 = before any heading)
    text: str
    enumerations: list[str] = field(default_factory=list)  # 一是/第一/首先 markers found in text


@dataclass
class ParsedDoc:
    meta: DocMeta
    sections: list[Section]


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    text: str
    heading_path: list[str]
    position: int  # 0-based order in the document
    n_chunks: int  # chunks in this document (lets the store detect a half-written document)
    title: str = ""
    issuer: str = ""
    year: int = 0
    doc_type: str = ""
    source: str = ""  # file the document came from
    figures: list[str] = field(default_factory=list)  # "1.2万个", "8.5%", "*.**万个" (masked slot)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def index_text(self) -> str:
        """What both indexes see: the heading path, then the text.

        The heading path carries the topic of a passage whose own sentences do not name it
        (``（三）住房保障`` over "新开工*套…").  Chroma stores the plain text for display.
        """
        return "\n".join([*self.heading_path, self.text])


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "title": c.title,
            "heading_path": list(c.heading_path),
            "text": c.text,
            "score": round(self.score, 6),
            "source": c.source,
            "issuer": c.issuer,
            "year": c.year,
            "doc_type": c.doc_type,
        }
