"""Rule-based auto-tagger: suggest codes for a text segment with evidence.

The pipeline is ``spacy.blank("en")`` plus up to three ``span_ruler``
components, one per matching mode:

* ``LOWER`` — the default: case-insensitive phrase matching on token text.
* ``LEMMA`` — patterns with ``lemma=True``: "provider network" also matches
  "provider networks". Lemmas come from the lookup lemmatizer fed by
  ``spacy-lookups-data`` (or from a trained pipeline's lemmatizer when one such
  as ``en_core_web_sm`` is installed), then are folded to lower case so that a
  sentence-initial "Workers" lemmatizes like "workers".
* ``ORTH`` — patterns with ``case_sensitive=True``, for abbreviations that are
  also ordinary words ("PACE" the program, not "at a steady pace").

Patterns are tokenized by the same tokenizer as the text, so "D-SNP" in a
pattern and "D-SNP" in a transcript split into the same tokens; variants that
tokenize differently ("DSNP", "D SNP", plurals) are listed as separate terms.

spaCy is imported lazily so that pattern definitions (``CodePattern``) can be
imported by code that never tags anything, without paying spaCy's import time.

Confidence formula
------------------
Each matched term gets a *specificity* ``w`` in (0, 1) (see
:func:`term_specificity`): an abbreviation of 3+ letters or a phrase of 3+
words is 0.6, a two-word phrase 0.45, a two-letter abbreviation 0.35 and a
single ordinary word 0.25, unless the pattern sets ``weight``. Matches are
grouped by *concept* (one ``CodePattern``, or several sharing a ``label``); a
concept's ``w`` is the highest among its matched terms and its occurrences
``n`` count with diminishing returns. Concepts are combined as independent
pieces of evidence (noisy-OR)::

    confidence = min(0.99, 1 - prod_c (1 - w_c) ** (1 + 0.5 * (min(n_c, 5) - 1)))

So one "D-SNP" gives 0.60, "D-SNP" twice 0.75, "D-SNP" plus "aligned
enrollment" 0.78, and a lone generic word 0.25. A second distinct concept
always raises confidence more than repeating the first; rules are never
certain, hence the 0.99 ceiling.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

SPANS_KEY = "engage_codes"
TRAINED_PIPELINE = "en_core_web_sm"
MAX_CONFIDENCE = 0.99
# Repeats of one concept count, but less than a distinct concept would.
REPEAT_FACTOR = 0.5
MAX_COUNTED_REPEATS = 5

_WORD = re.compile(r"[^\W_]+")
_FOLD_COMPONENT = "engage_fold_lemma"


class PatternError(ValueError):
    """A match pattern that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class CodePattern:
    """One concept to look for, and the code it suggests.

    ``terms`` holds the concept's spellings: the term itself first, then its
    variants and abbreviations. ``label`` (default: the first term) names the
    concept in explanations; patterns of one code that share a label count as
    one concept. ``weight`` overrides the computed specificity of every term.
    """

    code_key: str
    terms: Sequence[str]
    lemma: bool = False
    case_sensitive: bool = False
    label: str | None = None
    weight: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", tuple(self.terms) if self.terms else ())
        if not isinstance(self.code_key, str) or not self.code_key.strip():
            raise PatternError("a pattern needs a code key")
        if not self.terms:
            raise PatternError(f"pattern for code {self.code_key!r} has no terms")
        for term in self.terms:
            if not isinstance(term, str) or not _WORD.search(term):
                raise PatternError(
                    f"pattern for code {self.code_key!r} has a term without letters or "
                    f"digits: {term!r}"
                )
        if self.lemma and self.case_sensitive:
            # Lemmas are folded to lower case, so the two modes contradict.
            raise PatternError(
                f"pattern {self.concept!r} for code {self.code_key!r} cannot be both "
                "lemma-based and case-sensitive"
            )
        if self.weight is not None and not 0.0 < self.weight < 1.0:
            raise PatternError(
                f"pattern {self.concept!r} for code {self.code_key!r}: weight must be "
                f"between 0 and 1 (exclusive), got {self.weight!r}"
            )

    @property
    def concept(self) -> str:
        return self.label or self.terms[0]


@dataclass(frozen=True)
class Evidence:
    """A matched span; ``text == source_text[start_char:end_char]``."""

    start_char: int
    end_char: int
    text: str
    term: str


@dataclass(frozen=True)
class Suggestion:
    code_key: str
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""


def term_specificity(term: str) -> float:
    """How telling one match of ``term`` is, before any repeats.

    Abbreviations ("D-SNP", "LTSS", "I/DD") and multi-word phrases rarely occur
    by accident in this domain; single ordinary words ("workforce", "rural")
    do, so they start low and need company to reach a high confidence.
    """
    words = _WORD.findall(term)
    letters = sum(c.isalpha() for c in term)
    if letters >= 2 and not any(c.islower() for c in term):
        return 0.6 if letters >= 3 else 0.35
    # "PACE program", "D-SNP strategy": a phrase built on an acronym is as telling.
    if len(words) >= 3 or any(_is_acronym(w) for w in words):
        return 0.6
    if len(words) == 2:
        return 0.45
    return 0.25


def _is_acronym(word: str) -> bool:
    return len(word) >= 3 and word.isupper()


def combine_confidence(concepts: Iterable[tuple[float, int]]) -> float:
    """Noisy-OR over ``(specificity, occurrences)`` per concept (module docstring)."""
    miss = 1.0
    for weight, count in concepts:
        if count <= 0:
            continue
        exponent = 1.0 + REPEAT_FACTOR * (min(count, MAX_COUNTED_REPEATS) - 1)
        miss *= (1.0 - weight) ** exponent
    return round(min(MAX_CONFIDENCE, 1.0 - miss), 3)


@dataclass(frozen=True)
class _Entry:
    pattern_index: int
    term: str


class Tagger:
    """Built by :func:`build_tagger`; cheap to call, worth caching per codebook."""

    def __init__(self, nlp: Language, patterns: tuple[CodePattern, ...], entries: list[_Entry]):
        self.nlp = nlp
        self.patterns = patterns
        self._entries = entries

    @property
    def pipeline_name(self) -> str:
        meta = self.nlp.meta
        name = meta.get("name") or "pipeline"
        return f"{meta.get('lang', 'en')}_{name}" if name != "pipeline" else "blank:en"

    @property
    def code_keys(self) -> frozenset[str]:
        return frozenset(p.code_key for p in self.patterns)

    def tag(self, text: str) -> list[Suggestion]:
        return self._suggest(self.nlp(text))

    def tag_many(self, texts: Iterable[str], batch_size: int = 256) -> list[list[Suggestion]]:
        return [self._suggest(doc) for doc in self.nlp.pipe(texts, batch_size=batch_size)]

    def _suggest(self, doc: Doc) -> list[Suggestion]:
        from spacy.util import filter_spans

        if SPANS_KEY not in doc.spans:
            return []
        by_code: dict[str, list[Span]] = defaultdict(list)
        for span in doc.spans[SPANS_KEY]:
            if not _ends_inside_compound(span, self._entries[int(span.id_)].term):
                by_code[span.label_].append(span)

        suggestions = []
        for code_key, spans in by_code.items():
            # Within one code, "exclusively aligned enrollment" must not also count
            # as "aligned enrollment": keep the longest of overlapping matches.
            # Several terms can match the same words (lemma patterns "lesson learned"
            # and "lessons learned"); filter_spans keeps the first of equals, so put
            # the term spelled exactly as the text first.
            spans.sort(key=lambda s: self._entries[int(s.id_)].term.lower() != s.text.lower())
            concepts: dict[str, list[tuple[Span, _Entry]]] = defaultdict(list)
            for span in filter_spans(spans):
                entry = self._entries[int(span.id_)]
                concepts[self.patterns[entry.pattern_index].concept].append((span, entry))
            scored = []
            for concept, hits in concepts.items():
                weights = [self._weight(entry) for _, entry in hits]
                scored.append((concept, max(weights), hits))
            confidence = combine_confidence((w, len(hits)) for _, w, hits in scored)
            evidence = sorted(
                (
                    Evidence(span.start_char, span.end_char, span.text, entry.term)
                    for _, _, hits in scored
                    for span, entry in hits
                ),
                key=lambda e: (e.start_char, e.end_char),
            )
            suggestions.append(Suggestion(code_key, confidence, evidence, _reason(scored)))
        suggestions.sort(key=lambda s: (-s.confidence, s.code_key))
        return suggestions

    def _weight(self, entry: _Entry) -> float:
        pattern = self.patterns[entry.pattern_index]
        return pattern.weight if pattern.weight is not None else term_specificity(entry.term)


def _ends_inside_compound(span: Span, term: str) -> bool:
    """True for "community well" in "community well-being".

    The tokenizer splits hyphenated compounds, so a phrase can match their
    first half. Only ordinary words are checked: "D-SNP-aligned" still
    mentions a D-SNP.
    """
    doc = span.doc
    end = span.end
    return (
        term[-1:].islower()
        and end + 1 < len(doc)
        and not span[-1].whitespace_
        and doc[end].text == "-"
        and not doc[end].whitespace_
        and doc[end + 1].is_alpha
    )


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _reason(scored: list[tuple[str, float, list[tuple[Any, _Entry]]]]) -> str:
    # Strongest concept first, so the explanation leads with what mattered most.
    parts = []
    for concept, _, hits in sorted(scored, key=lambda s: (-s[1], -len(s[2]), s[0])):
        variants = sorted({e.term for _, e in hits if e.term.lower() != concept.lower()})
        part = f'"{concept}" {_times(len(hits))}'
        if variants:
            part += " (as " + ", ".join(f'"{v}"' for v in variants) + ")"
        parts.append(part)
    if len(parts) > 1:
        return "matched " + ", ".join(parts[:-1]) + " and " + parts[-1]
    return "matched " + parts[0]


@lru_cache(maxsize=1)
def _lemma_lookups() -> Any:
    """The English lookup table from spacy-lookups-data, loaded once per process."""
    from spacy.lookups import load_lookups

    try:
        return load_lookups("en", ["lemma_lookup"])
    except ValueError as exc:  # spaCy raises ValueError when the data package is missing
        raise PatternError(
            "lemma-based patterns need the spacy-lookups-data package (pip install "
            "spacy-lookups-data) or a trained pipeline such as en_core_web_sm"
        ) from exc


class _FoldLemmas:
    """Lower-case every lemma, re-looking up capitalized words.

    The lookup lemmatizer is keyed by exact text, so "Networks" at the start of
    a sentence would stay "Networks"; trained lemmatizers keep proper-noun case.
    Folding makes lemma patterns behave like LOWER patterns with inflection.
    """

    def __init__(self) -> None:
        self.table = _lemma_lookups().get_table("lemma_lookup")

    def __call__(self, doc: Doc) -> Doc:
        table = self.table
        for token in doc:
            lemma = token.lemma_
            if lemma and lemma != lemma.lower():
                lower = token.lower_
                token.lemma_ = str(table.get(lower, lower)).lower()
        return doc


def _register_components() -> None:
    from spacy.language import Language

    if not Language.has_factory(_FOLD_COMPONENT):
        Language.factory(_FOLD_COMPONENT, func=lambda nlp, name: _FoldLemmas())


def _base_pipeline(needs_lemma: bool, model: str | None) -> Language:
    import spacy

    if not needs_lemma:
        # Phrase matching on LOWER/ORTH uses only the tokenizer; a trained
        # pipeline would add nothing but a tenfold slowdown.
        return spacy.blank("en")
    nlp = None
    if model and spacy.util.is_package(model):
        try:
            nlp = spacy.load(model, exclude=["parser", "ner", "senter"])
        except (OSError, ValueError) as exc:  # e.g. built for another spaCy version
            warnings.warn(f"could not load {model} ({exc}); using blank English", stacklevel=3)
    if nlp is None:
        nlp = spacy.blank("en")
    if "lemmatizer" not in nlp.pipe_names:
        lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        lemmatizer.initialize(lookups=_lemma_lookups())
    nlp.add_pipe(_FOLD_COMPONENT)
    return nlp


def build_tagger(
    patterns: Iterable[CodePattern], *, model: str | None = TRAINED_PIPELINE
) -> Tagger:
    """Compile ``patterns`` into a :class:`Tagger`.

    ``model`` names a trained pipeline to use for lemmas when it is installed
    (``None``: always blank English). Raises :class:`PatternError` when there
    is nothing to tag with.
    """
    patterns = tuple(patterns)
    if not patterns:
        raise PatternError("no match patterns: add terms to at least one code before tagging")
    for p in patterns:
        if not isinstance(p, CodePattern):
            raise PatternError(f"expected CodePattern, got {type(p).__name__}")
    _register_components()
    nlp = _base_pipeline(any(p.lemma for p in patterns), model)

    entries: list[_Entry] = []
    by_attr: dict[str, list[dict[str, str]]] = {"LOWER": [], "LEMMA": [], "ORTH": []}
    for index, pattern in enumerate(patterns):
        attr = "LEMMA" if pattern.lemma else "ORTH" if pattern.case_sensitive else "LOWER"
        for term in pattern.terms:
            # The span id indexes ``entries`` so a match leads back to its term.
            by_attr[attr].append(
                {"label": pattern.code_key, "pattern": term, "id": str(len(entries))}
            )
            entries.append(_Entry(index, term))
    for attr, rules in by_attr.items():
        if not rules:
            continue  # an empty span_ruler warns on every document
        ruler = nlp.add_pipe(
            "span_ruler",
            name=f"engage_codes_{attr.lower()}",
            config={
                "spans_key": SPANS_KEY,
                "phrase_matcher_attr": attr,
                "validate": False,
                # All rulers share one spans key; the default would drop earlier matches.
                "overwrite": False,
            },
        )
        ruler.add_patterns(rules)
    return Tagger(nlp, patterns, entries)
