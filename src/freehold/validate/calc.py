"""A safe evaluator for the arithmetic written in answers: tokens in, exact value out.

Nothing here executes the answer. :func:`parse` builds a tree from :class:`Token` objects
with a small recursive-descent parser that knows only numbers, ``+ - * / ^``, unary minus
and parentheses; any other token (a name, a stray symbol) makes the tokens "not an
expression". :func:`evaluate` computes the tree exactly with :class:`fractions.Fraction`.
Bounds: the caller keeps expressions to a few dozen tokens (so recursion stays shallow),
numbers over 100 digits are refused, a power needs a whole exponent and a result under
:data:`MAX_BITS` bits, every intermediate result stays under :data:`MAX_MAGNITUDE`, and
division by zero is refused. The tokens come from :mod:`freehold.validate.equations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from freehold.validate.numbers import Written

MAX_MAGNITUDE = 10**100
"""Intermediate results, numerators and denominators must stay below this."""

MAX_BITS = 340
"""A power is computed only when its result would need at most this many bits (~10^102)."""

#: Token kinds. ``NAME`` is a one-letter name (``x``), which no expression may hold.
NUM, OP, LP, RP, EQ, UNIT, NAME, STOP, WORD, SKIP = (
    "num", "op", "lp", "rp", "eq", "unit", "name", "stop", "word", "skip"
)  # fmt: skip


@dataclass(slots=True)
class Token:
    """One piece of the text: its kind, its text and offsets, and what it means."""

    kind: str
    text: str
    start: int
    end: int
    op: str = ""
    number: Written | None = None
    units: str = ""
    """For a number: the word right after it (``"dozen"`` in ``1 dozen``)."""
    fraction: bool = False
    """For a number: written as ``a/b`` (or ``n a/b``) and read as one number."""

    @property
    def key(self) -> str:
        """What the token means, whatever its spelling (``$400`` and ``400`` are one)."""
        if self.kind == NUM:
            return "?" if self.number is None else f"{self.number.ratio}"
        return self.op or self.text


@dataclass(frozen=True, slots=True)
class Num:
    number: Written | None
    """None for a number too big to read."""
    fraction: bool = False
    """Written ``a/b``: a calculation of its own (``2/2 = 1``)."""


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Node


@dataclass(frozen=True, slots=True)
class Bin:
    op: str
    left: Node
    right: Node


Node = Num | Neg | Bin


class NotExpression(ValueError):
    """The tokens are not an arithmetic expression."""


class Refused(ValueError):
    """The expression cannot be computed within bounds (or divides by zero)."""


class _Parser:
    """expr := term (+|- term)* ; term := unary (*|/ unary)* ; unary := -unary | power ;
    power := atom (^ unary)? ; atom := number | ( expr )."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self, *ops: str) -> bool:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        return token is not None and token.kind == OP and token.op in ops

    def expr(self) -> Node:
        node = self.term()
        while self.peek("+", "-"):
            self.pos += 1
            node = Bin(self.tokens[self.pos - 1].op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek("*", "/"):
            self.pos += 1
            node = Bin(self.tokens[self.pos - 1].op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek("-", "+"):
            negative = self.tokens[self.pos].op == "-"
            self.pos += 1
            operand = self.unary()
            return Neg(operand) if negative else operand
        base = self.atom()
        if self.peek("^"):
            self.pos += 1
            return Bin("^", base, self.unary())
        return base

    def atom(self) -> Node:
        if self.pos >= len(self.tokens):
            raise NotExpression("ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        if token.kind == NUM:
            return Num(token.number, token.fraction)
        if token.kind == LP:
            node = self.expr()
            if self.pos >= len(self.tokens) or self.tokens[self.pos].kind != RP:
                raise NotExpression("unclosed parenthesis")
            self.pos += 1
            return node
        raise NotExpression(f"unexpected {token.text!r}")


def parse(tokens: list[Token]) -> Node:
    """The tree of ``tokens`` (keep them few: recursion follows nesting)."""
    parser = _Parser(tokens)
    node = parser.expr()
    if parser.pos != len(tokens):
        raise NotExpression(f"unexpected {tokens[parser.pos].text!r}")
    return node


def has_operator(node: Node) -> bool:
    """Whether ``node`` is a calculation rather than a (signed) number."""
    if isinstance(node, Neg):
        return has_operator(node.operand)
    return isinstance(node, Bin) or node.fraction


def literal_of(node: Node) -> tuple[int, Written] | None:
    """``(sign, number)`` when ``node`` is a signed number."""
    if isinstance(node, Neg):
        inner = literal_of(node.operand)
        return None if inner is None else (-inner[0], inner[1])
    if isinstance(node, Num) and node.number is not None:
        return 1, node.number
    return None


def leading_literal(node: Node) -> Written | None:
    """The number a calculation starts with (``8`` in ``8 + 2``)."""
    while isinstance(node, Bin):
        node = node.left
    return node.number if isinstance(node, Num) else None


def _is_percent(node: Node) -> bool:
    literal = literal_of(node)
    return literal is not None and literal[1].percent


def _bounded(value: Fraction) -> Fraction:
    if abs(value.numerator) >= MAX_MAGNITUDE or value.denominator >= MAX_MAGNITUDE:
        raise Refused("a number too large to check")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise Refused("a fractional exponent")
    if base == 0 and exponent < 0:
        raise Refused("division by zero")
    power = exponent.numerator
    if abs(base) == 1:
        return base ** (power % 2)
    size = max(base.numerator.bit_length(), base.denominator.bit_length())
    if base != 0 and size * abs(power) > MAX_BITS:
        raise Refused("a power too large to check")
    return _bounded(base**power)


def evaluate(node: Node) -> Fraction:
    """The exact value of ``node`` (percentages as fractions: ``20%`` is 1/5)."""
    if isinstance(node, Num):
        if node.number is None:
            raise Refused("a number too large to check")
        return _bounded(node.number.ratio)
    if isinstance(node, Neg):
        return -evaluate(node.operand)
    left, right = evaluate(node.left), evaluate(node.right)
    if node.op in "+-" and _is_percent(node.left) != _is_percent(node.right):
        raise Refused("a percentage added to a plain number is ambiguous")
    if node.op == "+":
        return _bounded(left + right)
    if node.op == "-":
        return _bounded(left - right)
    if node.op == "*":
        return _bounded(left * right)
    if node.op == "/":
        if right == 0:
            raise Refused("division by zero")
        return _bounded(left / right)
    return _power(left, right)
