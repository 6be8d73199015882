"""Bad input, fuzzed (issue #5): corpus files, the 公文 parser and the drafter's inputs.

Every target either succeeds or raises a :class:`DraftingError` whose Chinese ``help_message`` says
what happened and what to do; nothing else may escape.  The strategies and file builders here are
reused by ``bench/fuzz.py``, which runs them for thousands of examples and prints the counts.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tracemalloc
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafting.chunking import chunk_document, doc_id_for
from drafting.drafter import MAX_INPUT_CHARS, DraftRequest, FigureRow, draft, get_engine
from drafting.errors import DraftingError, FileTooLargeError, InputError, LoaderError
from drafting.guard import check_figures
from drafting.ingest import ingest
from drafting.keyword import fingerprint
from drafting.loaders import load_file
from drafting.records import LoadedText
from drafting.settings import get_settings
from drafting.store import CorpusStore
from drafting.structure import parse_document
from drafting.tokens import count_tokens
from tests.conftest import SEEDS

CJK = re.compile(r"[\u4e00-\u9fff]")
MB = 1024 * 1024
LIMIT = 20 * MB  # the default DRAFTING_MAX_FILE_MB
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))

# --------------------------------------------------------------------------------------------
# the invariant


def assert_clear(exc: DraftingError) -> None:
    """A writer-facing error: Chinese, and it says what to do next (请…)."""
    message = exc.help_message
    assert CJK.search(message), message
    assert "请" in message, f"no next step in: {message}"


def outcome(fn: Callable[[], Any], expected: type[DraftingError] = DraftingError) -> tuple[str, Any]:
    """("ok", result) or ("error", exc) for a clean error; anything else propagates (a crash)."""
    try:
        return "ok", fn()
    except expected as exc:
        assert_clear(exc)
        return "error", exc


# --------------------------------------------------------------------------------------------
# file builders (also used by bench/fuzz.py)

REPORT = (
    "市住建局2023年工作总结\n一、工作开展情况\n全年新开工保障性住房1200套，改造老旧小区120个。\n"
    "（一）城市更新\n新增停车泊位1.2万个。"
)


def good_docx() -> bytes:
    d = docx.Document()
    d.add_heading("市住建局2023年工作总结", 0)
    d.add_heading("一、工作开展情况", 1)
    d.add_paragraph("全年新开工保障性住房1200套，改造老旧小区120个。" * 5)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "项目"
    table.cell(1, 1).text = "完成"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    """The same zip with some entries replaced (and some added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, body in (extra or {}).items():
            dst.writestr(zipfile.ZipInfo(name), body)
    return out.getvalue()


def broken_xml_docx() -> bytes:
    return _rezip(good_docx(), {"word/document.xml": b"<?xml version='1.0'?><w:document><w:body><w:p>"})


def truncated_docx() -> bytes:
    data = good_docx()
    return data[: len(data) * 2 // 3]


def corrupt_deflate_docx() -> bytes:
    """A well-formed zip whose document.xml deflate stream is damaged (zlib.error inside zipfile)."""
    data = bytearray(good_docx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + min(info.compress_size, 60)):
        data[i] = 0xFF
    return bytes(data)


def traversal_docx() -> bytes:
    """A real docx that also carries entries named ../../…, /etc/… and C:\\… (never extracted)."""
    evil = b"owned"
    names = ["../../fuzz-evil.txt", "/tmp/fuzz-evil-abs.txt", "..\\..\\fuzz-evil-win.txt", "C:/fuzz-evil.txt"]
    return _rezip(good_docx(), {}, {name: evil for name in names})


def zip_bomb_docx(unpacked_mb: int = 300) -> bytes:
    """A real docx whose document.xml inflates to ``unpacked_mb`` MB (about 1000:1)."""
    base = good_docx()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info.filename, src.read(info.filename))
        head = src.read("word/document.xml").split(b"<w:body>")[0] + b"<w:body>"
        with dst.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            block = b"<w:p/>" * (MB // 6)
            for _ in range(unpacked_mb):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    return out.getvalue()


def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, trailer_extra, xref)
    )
    return out.getvalue()


def text_pdf(text: str = "Report 2024") -> bytes:
    stream = b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>"
            ),
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.encrypt(user_password="secret", owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def custom_encryption_pdf() -> bytes:
    """Encrypted with a handler pypdf does not implement (it raises NotImplementedError)."""
    pages = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    return _pdf([*pages, b"<< /Filter /AcmeLock /V 9 >>"], b"/Encrypt 3 0 R /ID [<00><00>] ")


def mixed_encoding_txt() -> bytes:
    """Half GBK, half UTF-8 in one file (a file pasted together from two sources)."""
    return (
        "一、工作开展情况\n全年新开工保障性住房1200套。\n".encode("gbk")
        + "（一）城市更新\n新增停车泊位1.2万个。\n".encode()
    )


# name -> bytes; every one must be refused with a clear message
BAD_FILES: dict[str, Callable[[], bytes]] = {
    "随机字节.txt": lambda: os.urandom(4096),
    "随机字节.docx": lambda: os.urandom(4096),
    "随机字节.pdf": lambda: os.urandom(4096),
    "随机字节.md": lambda: b"\x00" + os.urandom(2048),
    "空文件.txt": lambda: b"",
    "空白.md": lambda: " \n\t\u3000\n".encode(),
    "XML损坏.docx": broken_xml_docx,
    "截断.docx": truncated_docx,
    "压缩流损坏.docx": corrupt_deflate_docx,
    "加密.pdf": encrypted_pdf,
    "未知加密.pdf": custom_encryption_pdf,
    "截断.pdf": lambda: text_pdf()[:80],
    "旧版.doc": lambda: b"\xd0\xcf\x11\xe0" + os.urandom(1000),
    "\u202eexe.txt\u202d.pdf": lambda: b"%PDF-1.4 not really",  # RTL override hides the real suffix
}
# name -> bytes; odd names, good content: must load
ODD_NAMES: dict[str, Callable[[], bytes]] = {
    "报告\u200f\u202b阿拉伯\u202c.txt": lambda: REPORT.encode(),  # RTL marks
    "年度总结🏗️👷‍♀️.txt": lambda: REPORT.encode("gb18030"),  # emoji, GBK content
    ("很长的文件名" * 13)[:80] + ".md": lambda: ("# " + REPORT).encode(),  # 80 CJK chars = 240 bytes
    "..txt": lambda: REPORT.encode(),
    " 前后空格 .docx": good_docx,
    "含有路径片段..%2F..%2Fetc%2Fpasswd.txt": lambda: REPORT.encode(),
}


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# corpus files, one by one


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_a_clean_loader_error(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, BAD_FILES[name]())
    with pytest.raises(LoaderError) as exc:
        load_file(path, max_bytes=LIMIT)
    assert_clear(exc.value)


@pytest.mark.parametrize("name", sorted(ODD_NAMES))
def test_odd_file_names_load(tmp_path: Path, name: str) -> None:
    loaded = load_file(write(tmp_path, name, ODD_NAMES[name]()), max_bytes=LIMIT)
    assert "保障性住房1200套" in loaded.text


def test_specific_messages(tmp_path: Path) -> None:
    def message(name: str, data: bytes) -> str:
        with pytest.raises(LoaderError) as exc:
            load_file(write(tmp_path, name, data), max_bytes=LIMIT)
        return exc.value.help_message

    assert "加密" in message("a.pdf", encrypted_pdf())
    assert "加密" in message("b.pdf", custom_encryption_pdf())  # was NotImplementedError
    assert ".docx" in message("c.docx", corrupt_deflate_docx())  # was zlib.error
    assert "空" in message("d.txt", b"")


def test_mixed_encoding_file_is_text_or_a_clear_error(tmp_path: Path) -> None:
    kind, result = outcome(
        lambda: load_file(write(tmp_path, "mixed.txt", mixed_encoding_txt()), max_bytes=LIMIT)
    )
    if kind == "error":
        assert "编码" in result.help_message
    else:  # whatever was guessed is text, not binary junk
        assert isinstance(result, LoadedText) and result.text.strip()
        assert not any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in result.text)


def test_name_with_nul_is_a_loader_error() -> None:
    # os.stat raises ValueError("embedded null byte"), which used to escape load_file
    with pytest.raises(LoaderError) as exc:
        load_file(Path("报告\x00.txt"), max_bytes=LIMIT)
    assert_clear(exc.value)


def test_name_too_long_is_a_loader_error(tmp_path: Path) -> None:
    with pytest.raises(LoaderError) as exc:
        load_file(tmp_path / ("长" * 200 + ".txt"), max_bytes=LIMIT)  # 600 bytes > NAME_MAX
    assert_clear(exc.value)


def test_200mb_sparse_file_refused_by_size_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("huge.txt", "huge.docx", "huge.pdf"):
        path = tmp_path / name
        with path.open("wb") as fh:
            fh.truncate(200 * MB)  # sparse: no disk, no time

        def no_read(*args: object, **kwargs: object) -> None:
            raise AssertionError("the file was opened")

        with monkeypatch.context() as m, pytest.raises(FileTooLargeError) as exc:
            m.setattr(Path, "open", no_read)
            m.setattr(Path, "read_bytes", no_read)
            load_file(path, max_bytes=LIMIT)
        assert "200.0 MB" in exc.value.help_message
        assert_clear(exc.value)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb_docx(300)


def test_zip_bomb_refused_without_inflating(tmp_path: Path, bomb: bytes) -> None:
    path = write(tmp_path, "bomb.docx", bomb)
    assert path.stat().st_size < 2 * MB  # small on disk, 300 MB inside
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLargeError) as exc:
            load_file(path, max_bytes=LIMIT)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "解压" in exc.value.help_message and "压缩炸弹" in exc.value.help_message
    assert_clear(exc.value)
    assert peak < 32 * MB, f"{peak / MB:.0f} MB allocated: the bomb was inflated"


def test_zip_entries_with_traversal_names_are_never_written(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = write(work, "evil.docx", traversal_docx())
    before = {p for p in tmp_path.rglob("*")}
    kind, result = outcome(lambda: load_file(path, max_bytes=LIMIT))
    assert kind == "ok" and "保障性住房1200套" in result.text
    assert {p for p in tmp_path.rglob("*")} - before == set()
    assert not Path("/tmp/fuzz-evil-abs.txt").exists()


def test_traversal_in_an_explicit_path_reads_only_that_path(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    write(tmp_path, "passwd.txt", REPORT.encode())
    loaded = load_file(tmp_path / "corpus" / ".." / "passwd.txt", max_bytes=LIMIT)
    assert loaded.text == REPORT
    with pytest.raises(LoaderError) as exc:
        load_file(tmp_path / "corpus" / ".." / ".." / ".." / ".." / "etc" / "passwd", max_bytes=LIMIT)
    assert_clear(exc.value)  # no suffix: refused as an unsupported format, never read


# --------------------------------------------------------------------------------------------
# hypothesis: loaders

SUFFIXES = [".txt", ".md", ".docx", ".pdf"]
_GOOD = {
    ".docx": good_docx,
    ".pdf": text_pdf,
    ".txt": lambda: REPORT.encode(),
    ".md": lambda: REPORT.encode("gbk"),
}
_pieces = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"PK\x03\x04", b"%PDF-1.4\n", b"\r\n", b"\x1b[0m"]
    ),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(alphabet="住房城乡建设一二三、。（）１２３", max_size=40).map(lambda t: t.encode("gbk")),
)
random_bytes = st.lists(_pieces, max_size=30).map(b"".join)


@st.composite
def mutated(draw: st.DrawFn, suffix: str) -> bytes:
    """A good file of ``suffix`` with bytes overwritten, cut short or spliced."""
    data = bytearray(_GOOD[suffix]())
    for _ in range(draw(st.integers(1, 20))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def load_bytes(folder: Path, suffix: str, data: bytes) -> tuple[str, Any]:
    path = write(folder, "fuzz" + suffix, data)
    return outcome(lambda: load_file(path, max_bytes=LIMIT), LoaderError)


@FUZZ
@given(st.sampled_from(SUFFIXES), random_bytes)
def test_property_load_file_random_bytes(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, data: bytes
) -> None:
    kind, result = load_bytes(tmp_path_factory.getbasetemp(), suffix, data)
    if kind == "ok":
        assert result.text.strip()


@FUZZ
@given(st.data())
def test_property_load_file_mutated_documents(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    suffix = data.draw(st.sampled_from([".docx", ".docx", ".pdf", ".txt"]))
    kind, result = load_bytes(tmp_path_factory.getbasetemp(), suffix, data.draw(mutated(suffix)))
    if kind == "ok":
        assert result.text.strip()


# --------------------------------------------------------------------------------------------
# hypothesis: the 公文 parser and chunker

_HEADINGS = ["一、", "二十、", "（一）", "(二)", "1.", "2、", "（1）", "一是", "第一，", "# ", "## "]
_any_line = st.text(max_size=200)  # every Unicode category: control chars, RTL marks, emoji, NUL
_line = st.one_of(
    _any_line,
    st.tuples(st.sampled_from(_HEADINGS), _any_line).map("".join),
    st.sampled_from(_HEADINGS),  # only a marker
    st.text(alphabet="，。、；：！？“”《》（）…—·,.;:!?", max_size=200),  # only punctuation
    st.integers(2000, 20000).map(lambda n: "字" * n),  # a huge line
)
any_text = st.one_of(
    st.lists(_line, max_size=30).map("\n".join),
    st.text(max_size=2000),
    st.lists(st.sampled_from(_HEADINGS), max_size=200).map("\n".join),  # only headings
)


def _kept(text: str) -> Counter[str]:
    return Counter(c for c in text if not c.isspace())


def parse_and_chunk(text: str, max_tokens: int) -> list[Any]:
    """parse_document + chunk_document with the invariants every result must hold."""
    parsed = parse_document(text, styled_headings=[(0, text[:12]), (2, text[12:30])])
    doc_id = doc_id_for(text)
    chunks = chunk_document(parsed, doc_id=doc_id, source="fuzz", max_tokens=max_tokens)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.n_chunks == len(chunks) and c.chunk_id == f"{doc_id}:{c.position:04d}" for c in chunks)
    assert all(c.text.strip() and count_tokens(c.text) <= max_tokens for c in chunks)
    # nothing the parser kept is lost by the chunker: every non-whitespace character of the
    # section bodies, and every heading (in a path, or written into a merged chunk's text)
    out = "\n".join(c.text for c in chunks)
    assert not _kept("".join(s.text for s in parsed.sections)) - _kept(out)
    paths = {h for c in chunks for h in c.heading_path}
    for s in parsed.sections:
        for h in s.heading_path:
            assert h in paths or h in out, h
    return chunks


@FUZZ
@given(any_text, st.sampled_from([30, 120, 360]))
def test_property_parse_and_chunk_any_text(text: str, max_tokens: int) -> None:
    parse_and_chunk(text, max_tokens)


_LETTERS = ("L", "N", "S")  # letters, digits, symbols; heading-ending punctuation may be trimmed


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["正文。", *_HEADINGS]), st.text(max_size=150)), max_size=20))
def test_property_no_letter_digit_or_symbol_lost(lines: list[tuple[str, str]]) -> None:
    # "正文。" lines can be neither front matter nor headings, so nothing may be dropped: every
    # letter, digit and symbol (any script, emoji, control-free) comes back in a chunk or heading.
    text = "\n".join("".join(pair).replace("\n", " ").replace("\r", " ") for pair in lines)
    text = "说明。\n" + text
    parsed = parse_document(text)
    chunks = chunk_document(parsed, doc_id="d", source="fuzz", max_tokens=120)
    have = "".join(c.text for c in chunks) + "".join(h for s in parsed.sections for h in s.heading_path)

    def letters(s: str) -> Counter[str]:
        return Counter(c for c in s if unicodedata.category(c)[0] in _LETTERS)

    assert not letters(text) - letters(have)


def test_huge_unbroken_line_is_cut_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 60,000-character line with no punctuation is cut at character level; the cutter used to
    # re-encode the whole remainder at every step (quadratic: minutes for a 1 MB line).
    from drafting import chunking

    encoded = 0
    real = chunking.encoding()

    class Counting:
        def encode_ordinary(self, s: str) -> list[int]:
            nonlocal encoded
            encoded += len(s)
            return real.encode_ordinary(s)

    monkeypatch.setattr(chunking, "encoding", lambda: Counting())
    text = "住房城乡建设" * 10_000
    chunks = parse_and_chunk(text, 360)
    assert "".join(c.text for c in chunks) == text
    assert encoded < 50 * len(text), f"{encoded / len(text):.0f} characters encoded per input character"


# --------------------------------------------------------------------------------------------
# ingest: a folder of bad files plus two good ones


def test_ingest_folder_of_bad_files(tmp_path: Path, bomb: bytes) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bad = {name: make() for name, make in BAD_FILES.items() if not name.endswith(".doc")}
    bad["压缩炸弹.docx"] = bomb
    bad["超大.txt"] = b""
    for name, data in bad.items():
        write(corpus, name, data)
    with (corpus / "超大.txt").open("r+b") as fh:
        fh.truncate(200 * MB)
    write(corpus, "好的报告.txt", REPORT.encode())
    write(corpus, "好的报告.docx", good_docx())
    settings = get_settings(store=tmp_path / "store")

    report = ingest([corpus], settings)

    assert report.added == 2 and report.updated == 0
    failed = {Path(f["path"]).name: f["error"] for f in report.failed}
    assert set(failed) == set(bad)
    for name, message in failed.items():
        assert CJK.search(message) and "请" in message, (name, message)
    assert "压缩炸弹" in failed["压缩炸弹.docx"] and "200.0 MB" in failed["超大.txt"]
    store = CorpusStore(settings)
    docs = store.documents()
    assert len(docs) == 2 and all(d.complete for d in docs)
    ids = store.collection.get(include=[])["ids"]
    assert store.keyword().fingerprint == fingerprint(ids) and len(store.keyword()) == len(ids) > 0
    again = ingest([corpus], settings)  # idempotent, and the bad files are reported again
    assert (again.added, again.unchanged, len(again.failed)) == (0, 2, len(bad))


# --------------------------------------------------------------------------------------------
# the drafter's input


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("fuzzstore")
    shutil.copytree(SEEDS, root / "corpus")
    settings = get_settings(store=root / "store", engine="offline")
    ingest([root / "corpus"], settings)
    return settings, CorpusStore(settings)


def run_draft(req: DraftRequest, small_store: Any) -> tuple[str, Any]:
    settings, store = small_store
    return outcome(
        lambda: draft(req, settings, store=store, engine=get_engine(settings, "offline")), InputError
    )


INVALID = {
    "empty": DraftRequest("", []),
    "heading only": DraftRequest("城市更新", []),
    "whitespace bullets": DraftRequest("城市更新", ["  ", "\u3000\u3000", "\t", "\n", "。", "- "]),
    "100k bullets": DraftRequest("城市更新", ["改造老旧小区120个。" * 10_000]),
    "100k heading": DraftRequest("标" * 100_000, ["改造老旧小区120个"]),
    "100k figure row": DraftRequest("城市更新", ["改造"], [FigureRow("名" * 100_000, "1", "个", "2")]),
    "lone surrogate": DraftRequest("城市更新", ["新增泊位1.2万个\ud83d"]),
    "figures without heading or bullets": DraftRequest(
        "", [" "], [FigureRow("新增泊位", "1.2", "万个", "1.0")]
    ),
    "punctuation-only bullet": DraftRequest("城市更新", ["——……。!!!。"]),
    "emoji-only bullet": DraftRequest("城市更新", ["新增泊位1.2万个", "😀🏗️"]),
    "one bullet beyond any section": DraftRequest("城市更新", ["改造老旧小区120个。" * 500]),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_draft_input_is_an_input_error(name: str, small_store: Any) -> None:
    req = INVALID[name]
    with pytest.raises(InputError) as exc:
        req.validate()
    assert_clear(exc.value)
    kind, _ = run_draft(req, small_store)
    assert kind == "error"


VALID = {
    "full-width digits": DraftRequest("城市更新", ["改造老旧小区１２０个", "新增泊位１．２万个"]),
    "1e308": DraftRequest("城市更新", ["投资1e308元"], [FigureRow("投资", "1e308", "元", "1e307")]),
    "negative and over 100%": DraftRequest(
        "城市更新", ["空置率-5%", "完成率150%，同比增长150%"], [FigureRow("完成率", "150", "%", "-5")]
    ),
    "huge rate pair": DraftRequest(
        "住房保障", ["新建住房同比增长5%"], [FigureRow("新建住房", "1e30", "套", "1")]
    ),
    "huge digits in bullets": DraftRequest("住房保障", ["新建住房" + "9" * 40 + "套，上年1套，同比增长5%"]),
    "nan and inf rows": DraftRequest(
        "住房保障",
        ["新建住房同比增长5%"],
        [FigureRow("新建住房", "nan", "套", "inf"), FigureRow("x", "inf", "", "1")],
    ),
    "non-numeric rows": DraftRequest(
        "城市更新",
        ["改造老旧小区"],
        [
            FigureRow("泊位", "很多", "个", "abc"),
            FigureRow("", "", "", ""),
            FigureRow("a", "1,2,3", "", "--"),
        ],
    ),
    "figures only": DraftRequest("城市更新", [], [FigureRow("新增泊位", "1.2", "万个", "1.0")]),
    "html and script": DraftRequest(
        "<b>城市</b>更新",
        ["<script>alert(1)</script>新增泊位1.2万个", "<img src=x onerror=alert(1)>", "a &amp; b"],
    ),
    "control chars and RTL": DraftRequest(
        "\x1b[31m城市更新", ["\x00新增泊位\u202e1.2万个\u200f", "😀🏗️开展扬尘整治"]
    ),
    "exactly at the limit": DraftRequest(  # 40 bullets under the one-bullet limit, MAX_INPUT_CHARS in all
        "城市更新", ["改造老旧小区120个。" * 45] * 40 + ["字" * (MAX_INPUT_CHARS - 4 - 40 * 45 * 11)]
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_odd_but_valid_draft_input_drafts(name: str, small_store: Any) -> None:
    req = VALID[name]
    kind, result = run_draft(req, small_store)
    assert kind == "ok", result
    assert result.text.strip()
    assert result.status in ("ok", "needs_review")
    result.to_json()  # serialisable for the UI/CLI


def test_html_is_kept_as_text_and_the_guard_still_flags(small_store: Any) -> None:
    req = DraftRequest("城市更新", ["<script>alert(1)</script>新增泊位1.2万个"])
    kind, result = run_draft(req, small_store)
    assert kind == "ok"
    assert "<script>alert(1)</script>" in result.text  # kept verbatim; the UI escapes it
    assert result.figures.status == "ok"
    report = check_figures(result.text + "另建成<b>8</b>个。", req.provided_text())
    assert [f.raw for f in report.unverified] == ["8"]


def test_full_width_digits_are_the_writers_figures(small_store: Any) -> None:
    kind, result = run_draft(VALID["full-width digits"], small_store)
    assert kind == "ok"
    assert not result.figures.missing and not result.figures.unverified
    assert sorted(f.value for f in result.figures.provided) == [120.0, 12000.0]


def test_huge_rate_pair_is_checked_not_crashed() -> None:
    # (1e30 - 1) / 1 * 100 % used to overflow the decimal context: InvalidOperation from check_figures
    report = check_figures("新建住房同比增长5%。", "新建住房", pairs=[("新建住房", 1e30, 1.0, "套")])
    assert len(report.derived) == 1 and not report.derived[0].ok
    assert "应为" in report.derived[0].explanation
    for this, last in [(float("inf"), 1.0), (1e308, 1e-308), (float("nan"), 1.0)]:
        report = check_figures("新建住房同比增长5%。", "", pairs=[("新建住房", this, last, "套")])
        assert report.derived == [] and [f.raw for f in report.unverified] == ["5%"]


_numberish = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(
        ["１２０", "1e308", "-5%", "150%", "1,234.5", "", " ", "很多", "1_000", "0x10", "nan", "-inf"]
    ),
    st.text(max_size=12),
)
_bullet = st.one_of(
    st.text(max_size=200),
    st.tuples(
        st.sampled_from(["新建住房", "完成率", "投资", "<script>", "一是", "- "]),
        _numberish,
        st.sampled_from(["套", "%", "万个", "个百分点", "亿元", ""]),
        st.sampled_from(["", "，同比增长5%", "，上年1套", "，比上年下降3个百分点", "，由1提高到2"]),
    ).map("".join),
)
_row = st.builds(
    FigureRow, st.text(max_size=20), _numberish, st.sampled_from(["", "套", "%", "万个"]), _numberish
)
draft_requests = st.builds(
    DraftRequest, st.text(max_size=40), st.lists(_bullet, max_size=8), st.lists(_row, max_size=4)
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(draft_requests)
def test_property_draft_is_a_result_or_an_input_error(small_store: Any, req: DraftRequest) -> None:
    kind, result = run_draft(req, small_store)
    if kind == "ok":
        assert result.status in ("ok", "needs_review")


@FUZZ
@given(st.text(max_size=400), st.lists(_bullet, max_size=6), st.lists(_row, max_size=4))
def test_property_check_figures_never_raises(text: str, bullets: list[str], rows: list[FigureRow]) -> None:
    req = DraftRequest("", bullets, rows)
    report = check_figures(text + "\n" + "\n".join(bullets), req.provided_text(), pairs=req.pairs())
    assert report.status in ("ok", "needs_review")


def test_file_with_only_a_title_is_reported_not_added(tmp_path: Path) -> None:
    # The file loads (it has text), the parser takes the line as the title and no chunk is made:
    # it must be listed in `failed`, not counted as added on every run while nothing is searchable.
    write(tmp_path, "只有标题.txt", "市住建局2023年工作总结".encode())
    report = ingest([tmp_path / "只有标题.txt"], get_settings(store=tmp_path / "store"))
    assert report.added == 0 and len(report.failed) == 1
    assert "没有正文" in report.failed[0]["error"]
