from __future__ import annotations

import io
import os
import re
from pathlib import Path

import docx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfWriter

from drafting.errors import (
    CorruptFileError,
    EmptyFileError,
    FileTooLargeError,
    LoaderError,
    UnsupportedFormatError,
)
from drafting.loaders import SUPPORTED_SUFFIXES, decode_text, iter_corpus_files, load_file
from tests.conftest import SHARED

MB = 1024 * 1024
LIMIT = 20 * MB
SEEDS = SHARED / "corpus" / "seeds"
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_REPORT = "市住建局2023年工作总结\n一、工作开展情况\n　　全年完成保障性住房建设任务，“两违”整治成效明显。"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def make_docx(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("市住建局2023年工作总结", style="Title")
    d.add_paragraph("一、工作开展情况", style="Heading 1")
    d.add_paragraph("全年新开工保障性住房1200套。")
    table = d.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "项目"
    table.cell(0, 1).text = "计划"
    table.cell(0, 2).text = "完成"
    table.cell(1, 0).text = "棚户区改造"
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "全部完成"
    d.add_paragraph("（一）存在的问题", style="Heading 2")
    d.add_paragraph("表后正文。")
    d.save(str(path))
    return path


def make_text_pdf(text: str) -> bytes:
    """A minimal one-page PDF showing ``text`` (ASCII) in Helvetica, with a correct xref table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
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
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def blank_pdf(password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- plain text ----------------------------------------------------------------------------------------


def test_utf8_txt(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "a.txt", ZH_REPORT), max_bytes=LIMIT)
    assert loaded.text == ZH_REPORT
    assert loaded.encoding == "utf-8"
    assert loaded.fmt == "txt"
    assert loaded.styled_headings == []


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "a.txt", b"\xef\xbb\xbf" + ZH_REPORT.encode()), max_bytes=LIMIT)
    assert loaded.text == ZH_REPORT
    assert not loaded.text.startswith("\ufeff")
    assert loaded.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["gb18030", "gbk", "gb2312"])
def test_chinese_legacy_encodings(tmp_path: Path, codec: str) -> None:
    text = "市住建局2023年工作总结\n一、工作开展情况"
    loaded = load_file(write(tmp_path, "gb.txt", text.encode(codec)), max_bytes=LIMIT)
    assert loaded.text == text
    assert loaded.encoding == "gb18030"


def test_utf16_with_bom(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "u16.txt", ZH_REPORT.encode("utf-16")), max_bytes=LIMIT)
    assert loaded.text == ZH_REPORT
    assert loaded.encoding == "utf-16"


def test_latin1_falls_back_to_charset_normalizer() -> None:
    original = "Le café de la gare était fermé; résumé: déjà vu à l'hôtel. " * 5
    text, encoding = decode_text(original.encode("cp1252"))
    # the exact 8-bit code page is charset-normalizer's guess (it may pick a Baltic one for "à")
    assert "café" in text and "fermé" in text
    assert encoding not in ("utf-8", "gb18030")


def test_newlines_and_trailing_spaces_normalised(tmp_path: Path) -> None:
    raw = "第一行  \r\n第二行\t\r第三行　\n\n\n".encode()
    loaded = load_file(write(tmp_path, "a.txt", raw), max_bytes=LIMIT)
    assert loaded.text == "第一行\n第二行\n第三行"


def test_leading_fullwidth_indent_kept(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "a.txt", "标题\n　　正文缩进两格。"), max_bytes=LIMIT)
    assert loaded.text.split("\n")[1] == "　　正文缩进两格。"


def test_binary_junk_with_nul_bytes(tmp_path: Path) -> None:
    junk = os.urandom(4096) + b"\x00\x00" + os.urandom(512)
    with pytest.raises(CorruptFileError) as exc:
        load_file(write(tmp_path, "junk.txt", junk), max_bytes=LIMIT)
    assert "不是文字" in exc.value.help_message


def test_control_characters_without_nul_are_junk(tmp_path: Path) -> None:
    junk = bytes(range(1, 32)) * 50 + "一些文字".encode()
    with pytest.raises(CorruptFileError) as exc:
        load_file(write(tmp_path, "ctl.txt", junk), max_bytes=LIMIT)
    assert "不是文字" in exc.value.help_message


def test_unknown_encoding(tmp_path: Path) -> None:
    # every high byte once: not UTF-8, not GB18030, and charset-normalizer finds no plausible code page
    with pytest.raises(CorruptFileError) as exc:
        load_file(write(tmp_path, "odd.txt", bytes(range(0x80, 0x100)) * 3), max_bytes=LIMIT)
    assert "编码" in exc.value.help_message and "UTF-8" in exc.value.help_message


def test_gb18030_decoding_into_private_use_area_is_rejected() -> None:
    # valid GB18030, but every pair lands in the user-defined area (U+E000...): not a Chinese document
    data = "报告".encode("gb18030") + b"\xaa\xa1\xab\xb2" * 30
    try:
        text, encoding = decode_text(data)
    except CorruptFileError:
        return
    assert encoding != "gb18030"
    assert not any("\ue000" <= c <= "\uf8ff" for c in text)


def test_utf16_bom_followed_by_junk(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError):
        load_file(write(tmp_path, "u16.txt", b"\xff\xfe" + bytes(range(0xD8, 0xE0)) * 40), max_bytes=LIMIT)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=200))
def test_decode_text_roundtrips_utf8(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")


@given(
    st.text(
        alphabet=st.sampled_from("住建城乡规划年工作总结一二三四，。、“”（）《》：；0123456789ab\n"),
        min_size=1,
    )
)
def test_decode_text_roundtrips_gb18030_chinese(text: str) -> None:
    # A title-like prefix keeps the file realistic: a lone "一" (GBK D2 BB) is also valid UTF-8
    # ("һ") and is deliberately read as UTF-8.
    text = "市住建局" + text
    decoded, encoding = decode_text(text.encode("gb18030"))
    assert decoded == text
    assert encoding == "gb18030"


# --- markdown -------------------------------------------------------------------------------------------


def test_md_headings(tmp_path: Path) -> None:
    md = (
        "# 市住建局2023年工作总结\n\n## 一、工作开展情况 ##\n正文第一段。\n"
        "#话题不是标题\n### （一）城市更新\n"
    )
    loaded = load_file(write(tmp_path, "r.md", md), max_bytes=LIMIT)
    assert loaded.fmt == "md"
    assert loaded.styled_headings == [
        (1, "市住建局2023年工作总结"),
        (2, "一、工作开展情况"),
        (3, "（一）城市更新"),
    ]
    assert loaded.text.split("\n") == [
        "市住建局2023年工作总结",
        "",
        "一、工作开展情况",
        "正文第一段。",
        "#话题不是标题",
        "（一）城市更新",
    ]


# --- docx -----------------------------------------------------------------------------------------------


def test_docx_headings_and_table_in_order(tmp_path: Path) -> None:
    loaded = load_file(make_docx(tmp_path / "r.docx"), max_bytes=LIMIT)
    assert loaded.fmt == "docx"
    assert loaded.styled_headings == [
        (0, "市住建局2023年工作总结"),
        (1, "一、工作开展情况"),
        (2, "（一）存在的问题"),
    ]
    lines = [line for line in loaded.text.split("\n") if line]
    assert lines == [
        "市住建局2023年工作总结",
        "一、工作开展情况",
        "全年新开工保障性住房1200套。",
        "项目\t计划\t完成",
        "棚户区改造\t全部完成",  # merged cell appears once
        "（一）存在的问题",
        "表后正文。",
    ]


def test_docx_chinese_style_names(tmp_path: Path) -> None:
    d = docx.Document()
    d.styles.add_style("标题 2", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("（二）主要做法", style="标题 2")
    d.add_paragraph("正文。")
    path = tmp_path / "zh.docx"
    d.save(str(path))
    assert load_file(path, max_bytes=LIMIT).styled_headings == [(2, "（二）主要做法")]


def test_docx_without_text_is_empty(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("")
    d.add_paragraph("   ")
    path = tmp_path / "blank.docx"
    d.save(str(path))
    with pytest.raises(EmptyFileError):
        load_file(path, max_bytes=LIMIT)


def test_random_bytes_named_docx(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError) as exc:
        load_file(write(tmp_path, "bad.docx", os.urandom(2048)), max_bytes=LIMIT)
    assert ".docx" in exc.value.help_message


def test_truncated_docx(tmp_path: Path) -> None:
    data = make_docx(tmp_path / "full.docx").read_bytes()
    with pytest.raises(CorruptFileError):
        load_file(write(tmp_path, "cut.docx", data[: len(data) // 2]), max_bytes=LIMIT)


def test_zip_that_is_not_a_docx(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with __import__("zipfile").ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a word document")
    with pytest.raises(CorruptFileError):
        load_file(write(tmp_path, "zip.docx", buf.getvalue()), max_bytes=LIMIT)


# --- pdf ------------------------------------------------------------------------------------------------


def test_pdf_text_extracted(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "r.pdf", make_text_pdf("Hello 2024")), max_bytes=LIMIT)
    assert loaded.fmt == "pdf"
    assert "Hello 2024" in loaded.text


def test_pdf_without_text_is_scanned(tmp_path: Path) -> None:
    with pytest.raises(EmptyFileError) as exc:
        load_file(write(tmp_path, "scan.pdf", blank_pdf()), max_bytes=LIMIT)
    assert "扫描" in exc.value.help_message and "OCR" in exc.value.help_message


def test_encrypted_pdf(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError) as exc:
        load_file(write(tmp_path, "locked.pdf", blank_pdf(password="secret")), max_bytes=LIMIT)
    assert "加密" in exc.value.help_message


def test_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    # owner-password-only PDFs are encrypted but open without a password: not an error to report
    with pytest.raises(EmptyFileError):
        load_file(write(tmp_path, "owner.pdf", blank_pdf(password="")), max_bytes=LIMIT)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n" + b"\x00garbage" * 100, b"this is not a pdf at all", make_text_pdf("Hello")[:60]],
    ids=["garbage", "plain-text", "truncated"],
)
def test_corrupt_pdf(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CorruptFileError) as exc:
        load_file(write(tmp_path, "bad.pdf", data), max_bytes=LIMIT)
    assert "PDF" in exc.value.help_message


# --- file-level checks ----------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyFileError):
        load_file(write(tmp_path, "e.txt", b""), max_bytes=LIMIT)


def test_whitespace_only_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyFileError):
        load_file(write(tmp_path, "w.md", " \n\t\r\n　　\n"), max_bytes=LIMIT)


def test_oversize_file_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "big.txt", b"a" * (MB + MB // 2))

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("file was read")

    with monkeypatch.context() as m, pytest.raises(FileTooLargeError) as exc:
        m.setattr(Path, "open", no_read)
        m.setattr(Path, "read_bytes", no_read)
        load_file(path, max_bytes=MB)
    assert "1.5 MB" in exc.value.help_message and "1.0 MB" in exc.value.help_message


def test_size_exactly_at_limit_is_accepted(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "ok.txt", "十个字节"[:3] + "a"), max_bytes=10).text == "十个字a"


@pytest.mark.parametrize("name", ["old.doc", "sheet.xlsx", "noext"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsupportedFormatError) as exc:
        load_file(write(tmp_path, name, "内容"), max_bytes=LIMIT)
    suffix = Path(name).suffix
    assert (suffix or "无扩展名") in exc.value.help_message


def test_uppercase_suffix_is_supported(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "A.TXT", "大写扩展名"), max_bytes=LIMIT).text == "大写扩展名"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LoaderError) as exc:
        load_file(tmp_path / "nope.txt", max_bytes=LIMIT)
    assert "找不到" in exc.value.help_message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(LoaderError) as exc:
        load_file(tmp_path, max_bytes=LIMIT)
    assert "文件夹" in exc.value.help_message


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", "内容")
    path.chmod(0)
    try:
        with pytest.raises(LoaderError) as exc:
            load_file(path, max_bytes=LIMIT)
        assert "权限" in exc.value.help_message
    finally:
        path.chmod(0o644)


def test_every_error_message_is_chinese_advice(tmp_path: Path) -> None:
    cases: list[tuple[str, bytes, int]] = [
        ("junk.txt", b"\x00" + os.urandom(100), LIMIT),
        ("e.txt", b"", LIMIT),
        ("w.txt", b"   \n", LIMIT),
        ("big.txt", b"x" * 100, 10),
        ("x.doc", b"abc", LIMIT),
        ("bad.docx", b"PK not really", LIMIT),
        ("bad.pdf", b"nope", LIMIT),
        ("locked.pdf", blank_pdf(password="pw"), LIMIT),
        ("scan.pdf", blank_pdf(), LIMIT),
    ]
    messages = []
    for name, data, limit in cases:
        with pytest.raises(LoaderError) as exc:
            load_file(write(tmp_path, name, data), max_bytes=limit)
        messages.append(exc.value.help_message)
    with pytest.raises(LoaderError) as missing:
        load_file(tmp_path / "missing.md", max_bytes=LIMIT)
    messages.append(missing.value.help_message)
    for message in messages:
        assert CJK.search(message), message
        assert "请" in message, f"no next step in: {message}"
    assert len(set(messages)) == len(messages) - 1  # e.txt and w.txt share the generic empty message


# --- corpus folders -------------------------------------------------------------------------------------


def test_iter_corpus_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "2023" / "q4").mkdir(parents=True)
    (corpus / ".git").mkdir()
    for rel in [
        "b.txt",
        "a.docx",
        "manifest.jsonl",
        ".hidden.txt",
        ".git/config.txt",
        "notes.xlsx",
        "~$a.docx",
        "2023/report.PDF",
        "2023/q4/summary.md",
    ]:
        (corpus / rel).write_text("x")
    extra = write(tmp_path, "old.doc", "x")
    found = list(iter_corpus_files([corpus, extra, corpus / "b.txt", corpus / "manifest.jsonl"]))
    assert found == [
        corpus / "2023" / "q4" / "summary.md",
        corpus / "2023" / "report.PDF",
        corpus / "a.docx",
        corpus / "b.txt",
        extra,  # explicit unsupported file still yielded; b.txt not repeated; manifest skipped
    ]


def test_iter_corpus_files_keeps_missing_explicit_paths(tmp_path: Path) -> None:
    missing = tmp_path / "gone.txt"
    assert list(iter_corpus_files([missing])) == [missing]


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".docx", ".pdf")


# --- the real seed reports ------------------------------------------------------------------------------

SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []


@pytest.mark.skipif(not SEED_FILES, reason="seed corpus not present")
@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_reports_load(path: Path) -> None:
    loaded = load_file(path, max_bytes=LIMIT)
    assert loaded.encoding == "utf-8"
    assert len(CJK.findall(loaded.text)) > 500
    assert "\r" not in loaded.text


@pytest.mark.skipif(not SEED_FILES, reason="seed corpus not present")
def test_seed_folder_expansion_skips_manifest() -> None:
    found = list(iter_corpus_files([SEEDS]))
    assert found == SEED_FILES
