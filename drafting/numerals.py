"""The one table of Chinese numerals, and the two ways they are read.

Every module that meets a Chinese numeral reads it here (the quantities lexer, docmeta's dates, headings'
numbers, export's 成文日期, polish): there is no second table.

* :func:`cn_to_int` reads a counted numeral the way a report writes it: ``三千五百`` → 3500,
  ``十二`` → 12, ``一百零五`` → 105, ``1.2万``-style mixtures are the lexer's job.  Colloquial or
  malformed forms (``三万五``, ``一百五``, ``九九``) give ``None``, so they are never mistaken for a figure.
* :func:`cn_digits_to_int` reads digit-by-digit numerals, as in years: ``二〇二三`` → 2023.

    >>> cn_to_int("三千五百"), cn_to_int("两"), cn_to_int("十"), cn_to_int("三万五")
    (3500, 2, 10, None)
    >>> cn_digits_to_int("二〇二三")
    2023
"""

from __future__ import annotations

__all__ = [
    "CN_DIGITS",
    "CN_NUMERAL_CHARS",
    "CN_SMALL_UNITS",
    "cn_digits_to_int",
    "cn_to_int",
    "int_to_cn",
]

# 〇 and its look-alikes (○ U+25CB, Ｏ full-width O, O) appear in typed years: 二○二三年.
CN_DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_SMALL_UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS: dict[str, int] = {"亿": 10**8, "万": 10**4}
# the characters a counted numeral is made of (look-alike zeros excluded: they only occur in years)
CN_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿"
_ZEROS = {"零", "〇", "○", "Ｏ", "O"}


def _small(s: str) -> int | None:
    """Value of a numeral below 10000 (``三千五百``, ``十二``, ``一百零五``); None if malformed."""
    if not s:
        return 0
    total = 0
    digit: int | None = None
    last_mult: int | None = None
    after_zero = False
    for i, ch in enumerate(s):
        if ch in CN_DIGITS:
            d = CN_DIGITS[ch]
            if d == 0:
                if digit is not None or i == len(s) - 1:
                    return None
                after_zero = True
                continue
            if digit is not None:
                return None  # 九九, 二〇二三
            digit = d
        elif ch in CN_SMALL_UNITS:
            mult = CN_SMALL_UNITS[ch]
            if last_mult is not None and mult >= last_mult:
                return None  # 十百, 百百
            if digit is None:
                if ch != "十" or i != 0:
                    return None
                digit = 1
            total += digit * mult
            digit = None
            last_mult = mult
            after_zero = False
        else:
            return None
    if digit is not None:
        # a trailing digit must be units: 二十三, 一百零五 — not 一百五 (colloquial 150)
        if last_mult not in (None, 10) and not after_zero:
            return None
        total += digit
    return total


def cn_to_int(s: str) -> int | None:
    """A counted Chinese numeral as an int; None when it is malformed or colloquial."""
    if not s:
        return None
    for mark, mult in CN_BIG_UNITS.items():
        if mark in s:
            head, _, tail = s.partition(mark)
            if not head:
                return None
            high = cn_to_int(head)
            if high is None or high == 0:
                return None
            if tail and tail[0] not in _ZEROS and len(tail) == 1:
                return None  # 三万五 (colloquial)
            low = cn_to_int(tail) if tail else 0
            if low is None:
                return None
            return high * mult + low
    return _small(s)


def cn_digits_to_int(s: str) -> int | None:
    """Digit-by-digit numerals (``二〇二三`` → 2023); None unless every character is a digit."""
    if not s or any(ch not in CN_DIGITS or ch == "两" for ch in s):
        return None
    return int("".join(str(CN_DIGITS[ch]) for ch in s))


_INT_DIGITS = "零一二三四五六七八九"


def int_to_cn(n: int) -> str:
    """1..99 as a Chinese numeral (``12`` → 十二, ``3`` → 三): headings, ordinals and 一是/二是."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _INT_DIGITS[ones]
    head = "" if tens == 1 else _INT_DIGITS[tens]
    return head + "十" + (_INT_DIGITS[ones] if ones else "")
