"""Read one corpus file (.txt / .md / .docx / .pdf) into a :class:`LoadedText`.

Every failure a writer can cause (wrong format, broken file, unknown encoding, too large, empty)
raises a :class:`~drafting.errors.LoaderError` subclass whose ``help_message`` says in Chinese what
to do next.  The caller reports it per file and carries on with the rest of the corpus.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from drafting.errors import (
    CorruptFileError,
    EmptyFileError,
    FileTooLargeError,
    LoaderError,
    UnsupportedFormatError,
)
from drafting.records import LoadedText

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")
MANIFEST_NAME = "manifest.jsonl"
TABLE_CELL_SEP = "\t"
# A .docx may unpack to at most DOCX_UNPACK_RATIO times the file size limit (never less than
# DOCX_MIN_UNPACKED); more is a zip bomb or a document no writer needs to ingest.
DOCX_UNPACK_RATIO = 5
DOCX_MIN_UNPACKED = 100 * 1024 * 1024

_NOT_TEXT = (
    "文件内容不是文字（像是图片、压缩包或其他二进制文件）。请确认选对了文件，或另存为 .txt/.docx 后重试。"
)
_UNKNOWN_ENCODING = "无法识别文件编码，读出来是乱码。请用记事本或 WPS 打开该文件，另存为 UTF-8 编码后重试。"
_BROKEN_DOCX = (
    "Word 文件已损坏或不是真正的 .docx（可能是改了扩展名的旧版 .doc 或其他文件）。"
    "请用 Word/WPS 打开后另存为 .docx 再试。"
)
_BROKEN_PDF = "PDF 文件已损坏，无法打开。请用 PDF 阅读器打开确认，或重新导出/下载该 PDF 后再试。"
_ENCRYPTED_PDF = (
    "文件已加密（PDF 设有打开密码），无法读取。请去掉密码后另存一份，或改用 Word/文字版后再入库。"
)
_SCANNED_PDF = (
    "这个 PDF 里没有可提取的文字，看起来是扫描件或图片。请先做文字识别（OCR），或找到 Word/文字版后再入库。"
)
_EMPTY_DOCX = (
    "Word 文件里没有文字（可能只有图片或文本框）。"
    "请确认选对了文件，或把正文复制到新文档中另存为 .docx 后再试。"
)

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-4])$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t\u3000]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ALLOWED_CONTROL = frozenset("\t\n\r\f\v")
# Ranges a real GB2312/GBK/GB18030 Chinese document lives in: CJK ideographs and punctuation,
# full-width forms, general punctuation/symbols (“”…—①Ⅱ℃), Latin-1 symbols (·×°).
_CJK_TEXT_RANGES = (
    (0x00A0, 0x00FF),
    (0x2000, 0x2BFF),
    (0x3000, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)


def load_file(path: Path, *, max_bytes: int) -> LoadedText:
    """Read ``path`` and return its text; raise a :class:`LoaderError` subclass if it cannot be used."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except ValueError as exc:  # a NUL character in the name: no file can have it
        raise LoaderError(
            "文件名里有无效字符（如空字符），无法打开。请把文件改成普通的名字后再试。", detail=repr(str(path))
        ) from exc
    except FileNotFoundError as exc:
        raise LoaderError(f"找不到文件“{path.name}”。请检查路径和文件名是否正确。", detail=str(path)) from exc
    except OSError as exc:
        raise LoaderError(
            f"无法访问文件“{path.name}”。请检查文件权限，或把文件复制到本机目录后再试。", detail=str(exc)
        ) from exc
    if path.is_dir():
        raise LoaderError(
            f"“{path.name}”是文件夹，不是文件。请选择其中的文件，或整个文件夹一起导入。", detail=str(path)
        )

    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "（无扩展名）"
        raise UnsupportedFormatError(
            f"不支持 {shown} 格式的文件。请转换为 .docx、.pdf、.txt 或 .md 后再入库。", detail=str(path)
        )
    if size > max_bytes:
        raise FileTooLargeError(
            f"文件大小 {_human_size(size)}，超过上限 {_human_size(max_bytes)}，未入库。"
            "请拆分后再上传，或调大 DRAFTING_MAX_FILE_MB。",
            detail=str(path),
        )
    if size == 0:
        raise EmptyFileError(detail=str(path))

    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise LoaderError(
            f"无法读取文件“{path.name}”。请检查文件权限，或确认文件没有被其他程序占用后再试。",
            detail=str(exc),
        ) from exc
    if len(data) > max_bytes:  # grew after stat()
        raise FileTooLargeError(detail=str(path))

    if suffix == ".docx":
        loaded = _load_docx(data, max_unpacked=max(DOCX_MIN_UNPACKED, DOCX_UNPACK_RATIO * max_bytes))
    elif suffix == ".pdf":
        loaded = _load_pdf(data)
    else:
        text, encoding = decode_text(data)
        loaded = LoadedText(text=_normalise(text), fmt=suffix[1:], encoding=encoding)
        if suffix == ".md":
            loaded.text, loaded.styled_headings = _md_headings(loaded.text)

    if not loaded.text.strip():
        raise EmptyFileError(detail=str(path))
    return loaded


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the bytes of a plain-text file; return ``(text, encoding)``.

    Tries UTF-8 (BOM stripped), then GB18030 (covers GBK/GB2312), then charset-normalizer's best
    guess.  Raises :class:`CorruptFileError` for binary content or an encoding it cannot identify.
    """
    if not data:
        return "", "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Notepad's "Unicode"
        text = _try_decode(data, "utf-16")
        if text is None or not _looks_like_text(text):
            raise CorruptFileError(_NOT_TEXT, detail="UTF-16 BOM but not UTF-16 text")
        return text, "utf-16"
    if b"\x00" in data:
        raise CorruptFileError(_NOT_TEXT, detail="NUL bytes")

    # Valid UTF-8 always wins.  Real GBK text is almost never valid UTF-8; only a file of one or two
    # characters can be ambiguous ("一" is GBK D2 BB, which is also UTF-8 for Cyrillic "һ").
    text = _try_decode(data, "utf-8-sig")
    if text is not None:
        return _checked(text), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    text = _try_decode(data, "gb18030")
    if text is not None and _mostly_chinese_or_ascii(text):
        return _checked(text), "gb18030"

    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if text.strip() and _looks_like_text(text):
            return text, best.encoding
    raise CorruptFileError(_UNKNOWN_ENCODING, detail="not utf-8 / gb18030, charset-normalizer unsure")


def iter_corpus_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield the files to ingest: explicit files as given, folders expanded recursively in sorted order.

    Inside folders only supported suffixes are yielded, and hidden files/folders, Office lock files
    (``~$*``) and ``manifest.jsonl`` are skipped.  An explicit file with an unsupported suffix is still
    yielded so :func:`load_file` can tell the writer why it was refused.
    """
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if given.is_dir():
            candidates = sorted(
                p
                for p in given.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not p.name.startswith("~$")
                and not any(part.startswith(".") for part in p.relative_to(given).parts)
            )
        elif given.name == MANIFEST_NAME:
            continue
        else:
            candidates = [given]
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                yield p


# --- helpers -----------------------------------------------------------------------------------------


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} 字节"


def _control_ratio(text: str) -> float:
    bad = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROL)
    return bad / max(len(text), 1)


def _unassigned_ratio(text: str) -> float:
    bad = sum(1 for c in text if unicodedata.category(c) in ("Co", "Cn", "Cs"))
    return bad / max(len(text), 1)


def _looks_like_text(text: str) -> bool:
    return _control_ratio(text) <= 0.02 and _unassigned_ratio(text) <= 0.01


def _checked(text: str) -> str:
    if _control_ratio(text) > 0.02:
        raise CorruptFileError(_NOT_TEXT, detail="too many control characters")
    return text


def _mostly_chinese_or_ascii(text: str) -> bool:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return True
    good = 0
    for c in chars:
        o = ord(c)
        if 0x20 < o < 0x7F or any(lo <= o <= hi for lo, hi in _CJK_TEXT_RANGES):
            good += 1
    return good / len(chars) >= 0.95


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _CONTROL.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _md_headings(text: str) -> tuple[str, list[tuple[int, str]]]:
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    for line in text.split("\n"):
        m = _MD_HEADING.match(line)
        if m and m.group(2).strip():
            title = m.group(2).strip()
            headings.append((len(m.group(1)), title))
            lines.append(title)
        else:
            lines.append(line)
    return "\n".join(lines), headings


def _heading_level(style_name: str) -> int | None:
    name = style_name.strip()
    if name.lower() == "title" or name == "标题":
        return 0
    m = _HEADING_STYLE.match(name)
    return int(m.group(1)) if m else None


def _unpacked_size(data: bytes) -> int | None:
    """Total uncompressed size the zip's directory declares (None if it is not a readable zip).

    :mod:`zipfile` never inflates an entry beyond its declared size (a lie fails the CRC check), so
    this bounds what python-docx can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return sum(info.file_size for info in zf.infolist())
    except Exception:  # noqa: BLE001 - not a zip, or a broken one: python-docx reports it below
        return None


def _load_docx(data: bytes, *, max_unpacked: int) -> LoadedText:
    import docx

    unpacked = _unpacked_size(data)
    if unpacked is not None and unpacked > max_unpacked:
        raise FileTooLargeError(
            f"Word 文件解压后有 {_human_size(unpacked)}，超过上限 {_human_size(max_unpacked)}"
            "（可能是压缩炸弹，或内嵌了超大图片），未入库。"
            "请确认文件来源；若是正常文件，请删去大图片或拆分后另存为 .docx 再试。",
            detail=f"declared uncompressed size {unpacked}",
        )
    # python-docx, zipfile, zlib and lxml raise many kinds of errors on a damaged file (BadZipFile,
    # zlib.error, NotImplementedError for odd compression, KeyError, XMLSyntaxError …): every one
    # means the same thing to a writer.
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as exc:
        raise CorruptFileError(_BROKEN_DOCX, detail=f"{type(exc).__name__}: {exc}") from exc
    try:
        return _docx_text(blocks)
    except LoaderError:
        raise
    except Exception as exc:
        raise CorruptFileError(_BROKEN_DOCX, detail=f"{type(exc).__name__}: {exc}") from exc


def _docx_text(blocks: list[Paragraph | Table]) -> LoadedText:
    from docx.table import Table

    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    for block in blocks:
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                last_tc: object = None
                for cell in row.cells:
                    if cell._tc is last_tc:  # a horizontally merged cell repeats in row.cells
                        continue
                    last_tc = cell._tc
                    cells.append(" ".join(cell.text.split()))
                if any(cells):
                    lines.append(TABLE_CELL_SEP.join(cells))
        else:
            text = block.text
            style = block.style
            level = _heading_level(style.name or "") if style is not None else None
            if level is not None and text.strip():
                headings.append((level, text.strip()))
            lines.append(text)

    text = _normalise("\n".join(lines))
    if not text.strip():
        raise EmptyFileError(_EMPTY_DOCX)
    return LoadedText(text=text, fmt="docx", styled_headings=headings)


def _load_pdf(data: bytes) -> LoadedText:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise CorruptFileError(_ENCRYPTED_PDF, detail="needs a password")
            pages = [page.extract_text() or "" for page in reader.pages]
        except LoaderError:
            raise
        except (FileNotDecryptedError, DependencyError) as exc:
            raise CorruptFileError(_ENCRYPTED_PDF, detail=f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            # a damaged PDF makes pypdf raise anything (PdfReadError, LimitReachedError on reference
            # loops, ZeroDivisionError, NotImplementedError for an unknown encryption handler …)
            encrypted = isinstance(exc, NotImplementedError) and "ncryption" in str(exc)
            message = _ENCRYPTED_PDF if encrypted else _BROKEN_PDF
            raise CorruptFileError(message, detail=f"{type(exc).__name__}: {exc}") from exc

    text = _normalise("\n".join(pages))
    if not text.strip():
        raise EmptyFileError(_SCANNED_PDF)
    return LoadedText(text=text, fmt="pdf")
