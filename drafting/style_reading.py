"""How the style modules read a sentence, a heading and a closing (shared by mining and scoring).

The word lists below tell a verb from a subject or a time phrase; a sentence's head word is the
longest match (4, 3, 2 characters) in jieba's dictionary once its lead-in (enumeration marker, time
or setting clause, subject, auxiliary) is removed.  See :mod:`drafting.style_profile` for how the
profile counts them and :mod:`drafting.style_score` for how a draft is scored.

Pure functions; jieba's dictionary is initialised through :func:`drafting.textseg.tokenizer` on the
first :func:`jieba_dict` call.
"""

from __future__ import annotations

import re

from drafting.headings import HEADING_LEVELS, heading_level

DEFAULT_SENTENCE = {"median": 40.0, "p10": 15.0, "p90": 80.0}

LEVEL_MARKERS = {1: "一、", 2: "（一）", 3: "1.", 4: "（1）"}
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_ALL_CJK_RE = re.compile(r"^[\u4e00-\u9fff]+$")
_COUNTED_RE = re.compile(r"[\u3400-\u9fffA-Za-z0-9*＊]")
_PART_SPLIT_RE = re.compile(r"[，、；,;]")
CLAUSE_SPLIT_RE = re.compile(r"[，；。：！？,;:!?\n]")

# Adverbs that join the verb after them (深入 + 推进 → 深入推进).
MODIFIERS = frozenset(
    [
        "深入", "扎实", "积极", "持续", "全面", "大力", "不断", "切实", "全力", "认真", "努力", "坚决",
        "统筹", "重点", "稳步", "有序",
        "严格", "进一步", "高标准", "高质量", "高效", "主动", "及时", "广泛", "充分", "精心", "集中", "协同",
        "依法", "继续", "着重", "全方位",
        "系统", "科学", "有效", "加快", "扎扎实实", "更加", "更好", "始终", "一直", "逐步", "率先", "同步",
        "常态化", "深度", "全程", "长效",
        "积极稳妥", "稳妥", "务实", "累计", "成功", "共同", "强力", "纵深", "坚定不移", "千方百计",
        "因地制宜", "多渠道", "超额", "圆满", "严厉", "牢牢", "紧紧", "高度",
    ]
)
# Those of them that are verbs too when no verb follows (加快城市更新, 统筹城乡发展).
_VERBAL_MODIFIERS = frozenset(["加快", "继续", "统筹", "深入", "集中", "协同", "强化", "纵深"])
# Words that start a clause but are not predicates: pronouns, collectives, time, connectives.
NON_HEADS = frozenset(
    [
        "我们", "我局", "我市", "我区", "我县", "我省", "你们", "他们", "大家", "各位", "同志们", "其中",
        "其他", "其余", "同时", "此外",
        "另外", "因此", "所以", "但是", "但", "目前", "当前", "今年", "去年", "明年", "全年", "上半年",
        "下半年", "近年来", "今后", "下一步",
        "以来", "期间", "年度", "同比", "环比", "分别", "总之", "全市", "全区", "全县", "全省", "全局",
        "全国", "各地", "各级", "各部门",
        "社会", "城镇", "城市", "农村", "城乡", "群众", "企业", "项目", "工作", "这些", "这个", "这是",
        "这一", "那些", "一方面", "另一方面",
        "特别", "尤其", "主要", "以及", "并且", "而且", "还是", "就是", "只有", "如果", "虽然", "通过",
        "根据", "按照", "随着", "对于",
        "关于", "作为", "由于", "为了", "截至", "截止", "一批", "一些", "一系列", "同志", "领导", "尊敬",
        "谢谢", "首先", "其次", "再次",
        "最后", "第一", "第二", "第三", "一是", "二是", "三是", "四是", "五是", "六是", "以上", "上述",
        "如下", "包括", "主要是", "过去",
        "五年", "一年", "现在", "年均", "年内", "一定", "一般", "基本", "部分", "各类", "各项", "所有",
        "等等", "只要", "在于", "有利于",
        "对此", "上下", "本市", "我国", "中国", "全球", "世界", "国际", "国内", "成绩", "总量", "增速",
        "规模", "综合", "全社会", "全社",
        "习近平", "十四五", "十五", "十三", "主题", "住房", "住宅", "房屋", "房地产", "物业", "建筑", "小区",
        "老旧", "道路", "市政", "园林",
        "绿化", "燃气", "供水", "供热", "排水", "污水", "消防", "经济", "经济社会", "政府", "产业", "国家",
        "工业", "地区", "地方", "粮食",
        "人民", "民生", "人均", "科技", "居民", "城乡居民", "城镇居民", "农民", "人口", "常住人口", "财政",
        "教育", "文化", "生态", "生态环境",
        "旅游", "交通", "基础设施", "公共服务", "社会保障", "固定资产", "生产总值", "农业", "服务业",
        "制造业", "乡村", "县域", "县城", "区域",
        "省级", "国家级", "自治区", "省政府", "市政府", "民营", "民间", "国有企业", "金融机构", "高校",
        "基层", "单位", "中心", "技术", "高新技术",
        "新能源", "能源", "电力", "外贸", "进出口", "营商", "黄河", "法治", "平安", "美丽", "绿色", "数字",
        "现代", "现代化", "城镇化", "城镇化率", "空气质量", "蓝天", "信访", "工会",
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
WE_RE = re.compile(r"我们")
_QUOTED_RE = re.compile(r"“[^“”\n]{0,40}”|《[^《》\n]{0,40}》")


def bare_i(text: str) -> list[str]:
    """Bare first-person 我 outside quotations and titles (slogans such as “我为群众办实事” are fine)."""
    return _BARE_I_RE.findall(_QUOTED_RE.sub("", text))



def pattern_zh(pattern: str) -> str:
    return "+".join(f"{p}字" for p in pattern.split("+"))


def family_example(family: str) -> str:
    return {
        "一是/二是": "一是……二是……三是……",
        "一要/二要": "一要……二要……三要……",
        "第一/第二": "第一，……第二，……第三，……",
        "首先/其次": "首先……其次……最后……",
    }.get(family, family)



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


class WordDict:
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


def jieba_dict() -> WordDict:
    from drafting import textseg

    return WordDict(textseg.tokenizer().FREQ)


def _strip_lead(s: str, first_clause: bool) -> str:
    """Remove what comes before the predicate: enumeration marker, time clause, subject, auxiliary."""
    m = (_LEAD_SENTENCE_RE if first_clause else _LEAD_CLAUSE_RE).match(s)
    return s[m.end() :] if m else s


def _valid_head(w: str) -> bool:
    return 2 <= len(w) <= 4 and bool(_ALL_CJK_RE.match(w)) and w not in NON_HEADS


def first_word(s: str, d: WordDict, first_clause: bool = True) -> tuple[str, str]:
    """(first word, rest) of a sentence or clause once its lead-in is removed; ("", "") if unusable."""
    s = _strip_lead(s, first_clause)
    if not s or not _CJK_RE.match(s[0]):
        return "", ""
    w = d.longest(s)
    return (w, s[len(w) :]) if _valid_head(w) else ("", "")


def compose(w: str, rest: str, d: WordDict, verbset: set[str] | frozenset[str]) -> tuple[str, str]:
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


def head(s: str, d: WordDict, verbset: set[str] | frozenset[str],
         first_clause: bool = True) -> tuple[str, str]:
    """(opener, verb) of a sentence: ``一是深入推进项目…`` → ("深入推进", "推进")."""
    w, rest = first_word(s, d, first_clause)
    return compose(w, rest, d, verbset)



def enum_family(marker: str) -> str:
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


def text_lines(text: str) -> list[str]:
    """The non-empty lines of a chunk text or a draft, stripped of blanks (full-width and no-break too)."""
    return [s for s in (line.strip(" \t\u3000\xa0") for line in text.splitlines()) if s]


def body_lines(text: str) -> tuple[list[str], list[str]]:
    """(heading lines, body lines) of a chunk text or a draft."""
    heads: list[str] = []
    body: list[str] = []
    for s in text_lines(text):
        (heads if heading_level(s) else body).append(s)
    return heads, body

