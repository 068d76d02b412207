"""Reading the equations out of an answer's prose: tokens, their roles, and runs.

:func:`prepare` rewrites LaTeX and Markdown escapes as plain symbols; :func:`tokenize` reads
the text with bounded regular expressions into :class:`~freehold.validate.calc.Token`
objects (numbers as :mod:`freehold.validate.numbers` reads them, operators, parentheses,
``=`` and words) and gives each word its role from its neighbours: ``x``, ``times``,
``plus``, ``minus``, ``multiplied by`` and ``divided by`` between two operands are
operators; ``of`` after a percentage or a fraction multiplies (``20% of 50``); other words
right after a number are units (``3 hours * 60``, ``$12/hour``) when an operator or ``=``
follows them; a one-letter word next to arithmetic is a name (``2x + 5``). Prose in
parentheses (``20 (warming up) + 28``) is blanked out, ``2/5`` written tight is one number
and ``24 2/3`` a mixed number. :func:`runs` then gives the stretches of arithmetic tokens
that hold an ``=``. Offsets are kept, so every token points back into the text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from fractions import Fraction

from freehold.validate.calc import EQ, LP, NAME, NUM, OP, RP, SKIP, STOP, UNIT, WORD, Token
from freehold.validate.numbers import CURRENCY, NUMBER, Written, written

_ARITHMETIC = frozenset({NUM, OP, LP, RP, EQ, UNIT, NAME})

_TOKEN = re.compile(
    r"(?P<stop>\d++(?::\d+)+|[<>!=]=|=>|==|≈)"
    rf"|(?P<num>{NUMBER})"
    r"|(?P<word>(?<=[\w%])-[A-Za-z][\w'’-]*|[A-Za-z][A-Za-z'’]*)"
    r"|(?P<op>\*\*|[-+*/×÷·⋅∙^−–])"
    r"|(?P<eq>=)|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<space>[^\S\n]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_OPS = {"**": "^", "×": "*", "·": "*", "⋅": "*", "∙": "*", "÷": "/", "−": "-", "–": "-"}
_WORD_OPS = {"x": "*", "times": "*", "plus": "+", "minus": "-"}
_BY_OPS = {"multiplied": "*", "divided": "/"}
_NOT_UNITS_TEXT = """
    and or is are was were be been so then which that to for the in on at by from with it
    this he she they we you i if but because thus hence therefore equals equal makes gives
    total of than as when where after before into gets has have had will would there left
    more less
"""
_NOT_UNITS = frozenset(_NOT_UNITS_TEXT.split())
_LATEX = (
    (re.compile(r"\\[dt]?frac\s*\{([^{}]{1,60})\}\s*\{([^{}]{1,60})\}"), r"(\1)/(\2)"),
    (re.compile(r"\\text\s*\{([^{}]{0,60})\}"), r" \1 "),
    (re.compile(r"\\times|\\cdot"), " × "),
    (re.compile(r"\\div"), " ÷ "),
    (re.compile(r"\\left|\\right|\\[,!;]|\\[()\[\]]"), " "),
    (re.compile(r"\\([$%*_])"), r"\1"),
)
_PROSE_IN_PARENS = re.compile(r"\((?=[^()\n]*[A-Za-z]{2})[^()\d=+*/×÷^\n]{1,80}\)")


def _raw_tokens(text: str, offset: int) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "space":
            continue
        token = Token(kind, match.group(0), match.start() + offset, match.end() + offset)
        if kind == NUM:
            token.number = written(match)
        elif kind == OP:
            token.op = _OPS.get(token.text, token.text)
        elif kind == "other":
            token.kind = STOP
        tokens.append(token)
    return tokens


def _after_operand(token: Token | None) -> bool:
    return token is not None and token.kind in (NUM, RP, UNIT)


def _before_operand(token: Token | None) -> bool:
    return token is not None and token.kind in (NUM, LP)


def _is_fraction_end(tokens: list[Token], index: int) -> bool:
    """``tokens[index]`` is the ``b`` of ``a/b`` (or a percentage)."""
    number = tokens[index].number
    return tokens[index].fraction or (number is not None and number.percent)


def _word_role(tokens: list[Token], index: int) -> tuple[str, str]:
    """The kind (and operator) of the word at ``index``; earlier tokens are classified."""
    word = tokens[index].text.lower()
    prev = tokens[index - 1] if index else None
    nxt = tokens[index + 1] if index + 1 < len(tokens) else None
    after = tokens[index + 2] if index + 2 < len(tokens) else None
    if word in _WORD_OPS and _after_operand(prev) and _before_operand(nxt):
        return OP, _WORD_OPS[word]
    if word in _BY_OPS and _after_operand(prev) and nxt is not None and nxt.text == "by":
        return (OP, _BY_OPS[word]) if _before_operand(after) else (STOP, "")
    if word == "by" and prev is not None and prev.kind == OP and prev.text.lower() in _BY_OPS:
        return SKIP, ""
    if word == "of" and prev is not None and prev.kind == NUM and _before_operand(nxt):
        return (OP, "*") if _is_fraction_end(tokens, index - 1) else (STOP, "")
    if len(word) == 1:
        near = {t.kind for t in (prev, nxt) if t is not None}
        names = {OP, EQ, LP, RP} if word in ("a", "i") else {NUM, OP, EQ, LP, RP}
        return (NAME, "") if near & names else (STOP, "")
    if word in _NOT_UNITS:
        return STOP, ""
    if prev is not None and prev.kind in (NUM, UNIT):
        return UNIT, ""
    return STOP, ""


def _classify(tokens: list[Token]) -> list[Token]:
    for index, token in enumerate(tokens):
        if token.kind == WORD:
            token.kind, token.op = _word_role(tokens, index)
        elif token.op == "/" and _per_unit(tokens, index):
            token.kind, token.op = UNIT, ""  # "$12/hour": a rate, not a division
    _drop_dangling_units(tokens)
    return [token for token in tokens if token.kind != SKIP]


def _per_unit(tokens: list[Token], index: int) -> bool:
    before_ok = index > 0 and tokens[index - 1].kind in (NUM, UNIT)
    return before_ok and index + 1 < len(tokens) and tokens[index + 1].kind == WORD


def _drop_dangling_units(tokens: list[Token]) -> None:
    """Units count only between a number and an operator, ``=`` or ``)``; at most three."""
    index = 0
    while index < len(tokens):
        if tokens[index].kind != UNIT:
            index += 1
            continue
        end = index
        while end < len(tokens) and tokens[end].kind == UNIT:
            end += 1
        follower = tokens[end].kind if end < len(tokens) else STOP
        if follower not in (OP, EQ, RP) or end - index > 4:
            for token in tokens[index:end]:
                token.kind = STOP
        index = end


def _note_units(tokens: list[Token]) -> None:
    for index, token in enumerate(tokens):
        if token.kind == NUM:
            nxt = tokens[index + 1] if index + 1 < len(tokens) else None
            word = nxt.text.lower() if nxt is not None and nxt.kind == WORD else ""
            if len(word) > 1 and word not in _NOT_UNITS and word not in _WORD_OPS:
                token.units = word[:-1] if word.endswith("s") and word[-2:] != "ss" else word


def _latex(text: str) -> str:
    for pattern, replacement in _LATEX:
        text = pattern.sub(replacement, text)
    return text.replace("{", "(").replace("}", ")")


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """The classified tokens of ``text``; offsets are ``offset`` plus positions in ``text``
    (LaTeX, when present, is first rewritten to plain symbols, which shifts offsets)."""
    text = _PROSE_IN_PARENS.sub(lambda m: " " * len(m.group(0)), text)
    tokens = _merge_fractions(_raw_tokens(text, offset))
    _note_units(tokens)
    return _classify(tokens)


def prepare(text: str) -> str:
    """``text`` with LaTeX and Markdown escapes rewritten as plain symbols
    (``\\frac{a}{b}`` → ``(a)/(b)``, ``\\times`` → ``×``, ``\\*`` → ``*``)."""
    return _latex(text) if "\\" in text else text


def _whole_value(token: Token | None) -> Fraction | None:
    """The value of a number written without decimals or a percent sign, else None."""
    number = token.number if token is not None and token.kind == NUM else None
    if number is None or number.decimals != 0 or number.percent:
        return None
    return number.value


def _tight(*tokens: Token) -> bool:
    return all(a.end == b.start for a, b in itertools.pairwise(tokens))


def _merge_fractions(tokens: list[Token]) -> list[Token]:
    """Read ``2/5`` written tight as one number (so ``12.8 / 2/5`` is 32) and ``24 2/3``
    as a mixed number, unless a tight ``/`` or a ``^`` around it decides otherwise."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        window = tokens[index : index + 4]
        value = _tight_fraction(out, window)
        if value is None:
            out.append(tokens[index])
            index += 1
            continue
        start, end, text = window[0].start, window[2].end, "".join(t.text for t in window[:3])
        whole = _whole_value(out[-1]) if out else None
        if whole is not None and out[-1].end < start and 0 <= value < 1:
            start, text = out[-1].start, f"{out.pop().text} {text}"  # "24 2/3"
            value += whole
        number = Written(value, text, start, end, decimals=30)
        out.append(Token(NUM, text, start, end, number=number, fraction=True))
        index += 3
    return out


def _binds(operator: Token | None, number: Token) -> bool:
    """A ``^`` beside ``number``, or a ``/`` glued to it, takes it before ``a/b`` can."""
    if operator is None:
        return False
    glued = operator.end == number.start or number.end == operator.start
    return operator.op == "^" or (operator.op == "/" and glued)


def _tight_fraction(out: list[Token], window: list[Token]) -> Fraction | None:
    """The value of ``a/b`` at the start of ``window`` when it reads as one number."""
    if len(window) < 3 or window[1].op != "/" or not _tight(*window[:3]):
        return None
    numerator, denominator = _whole_value(window[0]), _whole_value(window[2])
    if numerator is None or not denominator or window[2].text[0] in CURRENCY:
        return None
    after = window[3] if len(window) > 3 else None
    if _binds(out[-1] if out else None, window[0]) or _binds(after, window[2]):
        return None
    return numerator / denominator


def runs(tokens: list[Token]) -> Iterator[list[Token]]:
    """The maximal stretches of arithmetic tokens that hold an ``=``."""
    run: list[Token] = []
    for index, token in enumerate([*tokens, Token(STOP, "", 0, 0)]):
        if token.kind in _ARITHMETIC:
            if not run and token.kind == OP and _continues(tokens, index):
                run.append(Token(NAME, "", token.start, token.start))  # "candies / 2 - 5"
            run.append(token)
            continue
        if any(t.kind == EQ for t in run):
            yield run
        run = []


def _continues(tokens: list[Token], index: int) -> bool:
    """A run that starts with an operator continues something that is not arithmetic
    (``Nick's candies / 2``), unless it is a minus sign: after punctuation or a line
    break, or glued to its number (``so -5 + 3``, not ``profit - 5``)."""
    operator = tokens[index]
    if operator.op != "-":
        return True
    previous = tokens[index - 1] if index else None
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if previous is None or not previous.text[:1].isalnum():
        return False
    glued = following is not None and following.start == operator.end
    return not (glued and previous.end < operator.start)
