"""Word (GB/T 9704-2012) and Markdown export, and safe file names."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from hypothesis import given
from hypothesis import strategies as st

from drafting.errors import DraftingError, ExportError
from drafting.export import Section, normalize_date, safe_filename, to_docx, to_markdown, write_markdown

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TITLE = "市住建局2024年上半年工作总结"
BODY = """今年以来，市住建局坚持以习近平新时代中国特色社会主义思想为指导，扎实推进各项工作。
一、工作开展情况
（一）强化理论武装。坚持把学习贯彻党的二十大精神作为重大政治任务，全年开展中心组学习12次。
（二）狠抓项目建设
1.完善制度。建立健全周调度、月督查机制。
（1）加强考核。把考核结果作为评先评优的重要依据。
新增停车泊位1.2万个，同比增长8.5%。
二、下半年工作打算
　　持续深化改革，全面完成年度目标任务。"""
SECTIONS = [Section(heading="", text=BODY), Section(heading="三、保障措施",
                                                    text="强化组织领导，压实工作责任。")]


def _mm_twips(mm: float) -> float:
    return mm / 25.4 * 1440


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> docx.document.Document:
    path = tmp_path_factory.mktemp("exp") / "out.docx"
    assert to_docx(TITLE, SECTIONS, path, issuer="某某市住房和城乡建设局", date="二〇二四年七月十日") == path
    return docx.Document(str(path))


def _east_asia(run) -> str:  # type: ignore[no-untyped-def]
    return run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def _size(run) -> int:  # type: ignore[no-untyped-def]
    return int(run._element.rPr.find(qn("w:sz")).get(qn("w:val")))


def _para(doc, start: str):  # type: ignore[no-untyped-def]
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def test_page_size_and_margins(built) -> None:  # type: ignore[no-untyped-def]
    sect = built.sections[0]._sectPr
    pg = sect.find(qn("w:pgSz"))
    mar = sect.find(qn("w:pgMar"))
    h = int(pg.get(qn("w:h")))
    w = int(pg.get(qn("w:w")))
    assert abs(w - _mm_twips(210)) <= 1 and abs(h - _mm_twips(297)) <= 1
    top, bottom = int(mar.get(qn("w:top"))), int(mar.get(qn("w:bottom")))
    left, right = int(mar.get(qn("w:left"))), int(mar.get(qn("w:right")))
    for got, mm in ((top, 37), (bottom, 35), (left, 28), (right, 26)):
        assert abs(got - _mm_twips(mm)) <= 1
    assert abs((w - left - right) - _mm_twips(156)) <= 2 and abs((h - top - bottom) - _mm_twips(225)) <= 2
    assert int(mar.get(qn("w:gutter"))) == 0
    grid = sect.find(qn("w:docGrid"))
    pitch = int(grid.get(qn("w:linePitch")))
    assert grid.get(qn("w:type")) == "lines" and pitch == 579
    assert (h - top - bottom) // pitch == 22  # 22 lines a page, not 21


def test_every_paragraph_has_exact_22_line_spacing(built) -> None:  # type: ignore[no-untyped-def]
    for p in built.paragraphs:
        sp = p._p.pPr.find(qn("w:spacing"))
        assert sp.get(qn("w:lineRule")) == "exact" and sp.get(qn("w:line")) == "579", p.text
        assert sp.get(qn("w:before")) == "0" and sp.get(qn("w:after")) == "0"


def test_defaults_have_no_theme_fonts(built) -> None:  # type: ignore[no-untyped-def]
    rfonts = built.styles.element.find(qn("w:docDefaults")).find(f".//{W}rFonts")
    assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert not any("Theme" in k or "theme" in k for k in rfonts.attrib)
    lang = built.styles.element.find(qn("w:docDefaults")).find(f".//{W}lang")
    assert lang.get(qn("w:eastAsia")) == "zh-CN"


def test_title(built) -> None:  # type: ignore[no-untyped-def]
    p = built.paragraphs[0]
    assert p.text == TITLE
    assert p.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    (run,) = p.runs
    assert _east_asia(run) == "方正小标宋简体" and run.font.name == "方正小标宋简体"
    assert _size(run) == 44  # 2号 = 22 pt
    assert built.paragraphs[1].text == ""  # an empty line under the title


@pytest.mark.parametrize(
    ("start", "font", "whole"),
    [
        ("一、工作开展情况", "黑体", True),
        ("（二）狠抓项目建设", "楷体_GB2312", True),
        ("1.完善制度。", "仿宋_GB2312", False),
        ("（1）加强考核。", "仿宋_GB2312", False),
        ("三、保障措施", "黑体", True),
    ],
)
def test_heading_fonts(built, start: str, font: str, whole: bool) -> None:  # type: ignore[no-untyped-def]
    p = _para(built, start)
    head = p.runs[0]
    assert _east_asia(head) == font and head.font.name == font
    assert _size(head) == 32 and not head.bold
    for run in p.runs:
        assert not run.bold
    assert (p.runs[0].text == p.text) == whole


def test_run_in_heading_styles_only_the_heading(built) -> None:  # type: ignore[no-untyped-def]
    p = _para(built, "（一）强化理论武装")
    head, body = p.runs
    assert head.text == "（一）强化理论武装。"
    assert _east_asia(head) == "楷体_GB2312"
    assert body.text.startswith("坚持把学习") and _east_asia(body) == "仿宋_GB2312"
    assert p._p.pPr.find(qn("w:outlineLvl")) is None
    assert _para(built, "一、工作开展情况")._p.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "0"


def test_body_paragraphs(built) -> None:  # type: ignore[no-untyped-def]
    p = _para(built, "新增停车泊位")
    assert p.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.JUSTIFY
    ind = p._p.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200" and ind.get(qn("w:firstLine")) == "640"
    (run,) = p.runs
    assert _east_asia(run) == "仿宋_GB2312" and _size(run) == 32
    rfonts = run._element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:ascii")) == rfonts.get(qn("w:hAnsi")) == "仿宋_GB2312"
    # 28 characters of 16 pt (320 twips) minus the condensing fit the 156 mm line
    condense = int(run._element.rPr.find(qn("w:spacing")).get(qn("w:val")))
    assert 28 * (320 + condense) <= _mm_twips(156) < 29 * (320 + condense)
    # indentation the writer typed (full-width spaces) is replaced by the paragraph indent
    assert _para(built, "持续深化改革").text == "持续深化改革，全面完成年度目标任务。"


def test_text_present_in_order(built) -> None:  # type: ignore[no-untyped-def]
    texts = [p.text for p in built.paragraphs]
    expected = ([TITLE] + [ln.strip("\u3000 ") for ln in BODY.splitlines()]
        + ["三、保障措施", "强化组织领导，压实工作责任。"])
    pos = 0
    for line in expected:
        pos = texts.index(line, pos) + 1
    assert texts[-2:] == ["某某市住房和城乡建设局", "2024年7月10日"]


def _printed_twips(p) -> float:  # type: ignore[no-untyped-def]
    """Width of a body paragraph's text as printed: 3号 (320 twips, half-width 160) plus each run's
    w:spacing."""
    total = 0.0
    for r in p.runs:
        spacing = r._element.rPr.find(qn("w:spacing"))
        per = int(spacing.get(qn("w:val"))) if spacing is not None else 0
        total += (sum(160 if unicodedata.east_asian_width(c) in "NaH" else 320 for c in r.text) + per
            * len(r.text))
    return total


def test_signature_issuer_centred_over_the_date_four_characters_from_the_right(built) -> None:  # type: ignore[no-untyped-def]
    issuer, date = built.paragraphs[-2], built.paragraphs[-1]
    assert built.paragraphs[-3].text == ""
    assert (issuer.text, date.text) == ("某某市住房和城乡建设局", "2024年7月10日")
    right = docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    assert issuer.alignment == right and date.alignment == right
    ind_i, ind_d = (p._p.pPr.find(qn("w:ind")) for p in (issuer, date))
    r_issuer, r_date = int(ind_i.get(qn("w:right"))), int(ind_d.get(qn("w:right")))
    assert r_date == 4 * 320 and ind_d.get(qn("w:rightChars")) == "400"  # 右空四字
    # centred: the middle of the printed issuer is the middle of the printed date (within a twip)
    mid_issuer = r_issuer + _printed_twips(issuer) / 2
    mid_date = r_date + _printed_twips(date) / 2
    assert abs(mid_issuer - mid_date) <= 1
    assert r_issuer < r_date  # the office (11 characters) is wider than the date (6.5)
    assert abs(int(ind_i.get(qn("w:rightChars"))) / 100 * 320 - r_issuer) <= 2  # Word reads the *Chars value
    assert issuer.paragraph_format.keep_with_next


@pytest.mark.parametrize(("issuer", "date"), [("住建局", "2024年12月31日"),
                                              ("某某市住房和城乡建设局", "2024年7月1日"), ("市住建局", "")])
def test_signature_geometry_for_short_and_long_offices(tmp_path, issuer: str, date: str) -> None:  # type: ignore[no-untyped-def]
    path = to_docx("标题", [Section("", "正文。")], tmp_path / "s.docx", issuer=issuer, date=date)
    paras = docx.Document(str(path)).paragraphs
    lines = [p for p in paras if p.text in (issuer, date) and p.text]
    r = [int(p._p.pPr.find(qn("w:ind")).get(qn("w:right"))) for p in lines]
    if date:
        assert r[1] == 1280
        assert abs((r[0] + _printed_twips(lines[0]) / 2) - (r[1] + _printed_twips(lines[1]) / 2)) <= 1
        assert (r[0] > r[1]) == (len(issuer) < 6)  # a short office sits further in than the date
    else:
        assert r == [1280]


def _footer_parts(doc):  # type: ignore[no-untyped-def]
    sect = doc.sections[0]
    refs = {r.get(qn("w:type")) for r in sect._sectPr.findall(qn("w:footerReference"))}
    assert {"default", "even"} <= refs
    return sect.footer.paragraphs[0], sect.even_page_footer.paragraphs[0]


def test_page_numbers_odd_right_even_left(built) -> None:  # type: ignore[no-untyped-def]
    settings = built.settings.element
    assert settings.find(qn("w:evenAndOddHeaders")) is not None
    odd, even = _footer_parts(built)
    assert odd.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    assert even.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.LEFT
    assert odd._p.pPr.find(qn("w:ind")).get(qn("w:right")) == "280"  # one 4号 character in
    assert even._p.pPr.find(qn("w:ind")).get(qn("w:left")) == "280"
    for p in (odd, even):
        instr = [e.text for e in p._p.iter(qn("w:instrText"))]
        assert [s.strip() for s in instr] == ["PAGE"]
        kinds = [e.get(qn("w:fldCharType")) for e in p._p.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        assert p.text == "— 1 —"
        for run in p.runs:
            assert _east_asia(run) == "宋体" and _size(run) == 28  # 4号 = 14 pt


def test_unwritable_path_is_export_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError) as info:
        to_docx("标题", [Section("", "正文。")], blocker / "out.docx")
    assert isinstance(info.value, DraftingError) and "可写" in info.value.help_message
    assert list(tmp_path.iterdir()) == [blocker]


def test_overwrite_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "a.docx"
    to_docx("第一版", [Section("", "甲。")], out)
    to_docx("第二版", [Section("", "乙。")], out)
    assert docx.Document(str(out)).paragraphs[0].text == "第二版"
    assert [p.name for p in tmp_path.iterdir()] == ["a.docx"]


def test_section_heading_rules(tmp_path: Path) -> None:
    out = tmp_path / "s.docx"
    sections = [
        Section("工作回顾", "全年完成投资3.2亿元。"),  # no marker: level one
        Section("（一）住房保障", "（一）住房保障\n新建保障房1200套。"),  # repeated in the text: once
        Section("标题", "正文。"),  # repeats the title: dropped
        Section("## **二、下步打算**", "持续发力。"),  # Markdown from a model is removed
    ]
    doc = docx.Document(str(to_docx("标题", sections, out)))
    texts = [p.text for p in doc.paragraphs]
    assert texts == ["标题", "", "工作回顾", "全年完成投资3.2亿元。", "（一）住房保障", "新建保障房1200套。",
                     "正文。", "二、下步打算", "持续发力。"]
    assert _east_asia(_para(doc, "工作回顾").runs[0]) == "黑体"
    assert _east_asia(_para(doc, "二、下步打算").runs[0]) == "黑体"


# ---------------------------------------------------------------------------------------------
# markdown


def test_markdown() -> None:
    md = to_markdown(TITLE, SECTIONS, issuer="某某市住房和城乡建设局", date="2024-07-10")
    blocks = md.rstrip("\n").split("\n\n")
    assert blocks[0] == "# " + TITLE
    assert blocks[1].startswith("今年以来")
    assert "## 一、工作开展情况" in blocks
    assert ("**（一）强化理论武装**。坚持把学习贯彻党的二十大精神作为重大政治任务，全年开展中心组学习12次。"
        in blocks)
    assert "### （二）狠抓项目建设" in blocks
    assert "1.完善制度。建立健全周调度、月督查机制。" in blocks
    assert "（1）加强考核。把考核结果作为评先评优的重要依据。" in blocks
    assert "新增停车泊位1.2万个，同比增长8.5%。" in blocks
    assert "持续深化改革，全面完成年度目标任务。" in blocks
    assert "## 三、保障措施" in blocks
    assert blocks[-1] == "某某市住房和城乡建设局<br>\n2024年7月10日"
    assert (blocks.index("## 一、工作开展情况") < blocks.index("### （二）狠抓项目建设")
        < blocks.index("## 三、保障措施"))


def test_write_markdown(tmp_path: Path) -> None:
    out = write_markdown(TITLE, SECTIONS, tmp_path / "sub" / "a.md", date="2024-07-10")
    assert out.read_text(encoding="utf-8") == to_markdown(TITLE, SECTIONS, date="2024-07-10")
    assert [p.name for p in out.parent.iterdir()] == ["a.md"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError):
        write_markdown(TITLE, SECTIONS, blocker / "a.md")


def test_markdown_escapes() -> None:
    md = to_markdown("", [Section("",
                                  "完成投资*.*亿元，增长*%。\n1. 第三级标题\n# 模型加的井号\n- 不是列表\n> "
                                  "不是引用")])
    blocks = md.rstrip("\n").split("\n\n")
    assert blocks == ["完成投资\\*.\\*亿元，增长\\*%。", "#### 1\\. 第三级标题", "模型加的井号",
                      "\\- 不是列表", "\\> 不是引用"]


# ---------------------------------------------------------------------------------------------
# dates and file names


@pytest.mark.parametrize(
    ("given_date", "want"),
    [
        ("二〇二四年七月十日", "2024年7月10日"),
        ("二○二三年十二月三十一日", "2023年12月31日"),
        ("2024-07-01", "2024年7月1日"),
        ("2024/7/1", "2024年7月1日"),
        ("2024年07月01日", "2024年7月1日"),
        ("", ""),
        ("七月上旬", "七月上旬"),
    ],
)
def test_normalize_date(given_date: str, want: str) -> None:
    assert normalize_date(given_date) == want


def test_safe_filename_examples() -> None:
    assert safe_filename("市住建局2024年上半年工作总结", "docx") == "市住建局2024年上半年工作总结.docx"
    assert safe_filename("../../etc/passwd", ".md") == "etc_passwd.md"
    assert safe_filename("a\\b:c*d?\"e<f>g|h", "docx") == "a_b_c_d_e_f_g_h.docx"
    assert safe_filename("第一行\n第二行\x00\x1f", "docx") == "第一行 第二行.docx"
    assert safe_filename("   ..  ", "docx") == "未命名.docx"
    assert safe_filename("CON", "docx") == "_CON.docx"
    assert safe_filename("报告", "DOCX") == "报告.docx"
    long = safe_filename("很长" * 200, "docx")
    assert len(long) == 60 + 5 and len(long.encode()) <= 205
    with pytest.raises(ValueError):
        safe_filename("x", "../docx")
    with pytest.raises(ValueError):
        safe_filename("x", "")


@given(st.text(max_size=300))
def test_safe_filename_never_escapes(title: str) -> None:
    name = safe_filename(title, "docx")
    assert name.endswith(".docx") and len(name) > len(".docx")
    assert Path(name).name == name and "/" not in name and "\\" not in name
    assert ".." not in name and not name.startswith(".")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in name)
    assert len(name.encode("utf-8")) <= 200 + len(".docx")


def test_property_elements_in_schema_order(built) -> None:  # type: ignore[no-untyped-def]
    """Word refuses a file whose pPr/rPr children are out of schema order."""
    from drafting.export import _ORDER

    parts = [built.element, built.styles.element, built.sections[0].footer._element,
             built.sections[0].even_page_footer._element]
    checked = 0
    for part in parts:
        for name in ("pPr", "rPr"):
            order = _ORDER[name].split()
            for el in part.iter(W + name):
                tags = [c.tag.replace(W, "") for c in el if c.tag.startswith(W)]
                known = [order.index(t) for t in tags if t in order]
                assert known == sorted(known), tags
                checked += 1
    assert checked > 50
