"""The instrument pack format: what a pack file may say, validated on load.

A pack is data (TOML). Validation collects every problem with the field it is
in, so a wrong pack fails with "file: field: problem" rather than a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any

LANGUAGES = ("da", "en")
FAMILIES = ("outcome", "session", "ruler", "meeting-experience")
TIMINGS = ("before", "during", "after")
RESPONSE_KINDS = ("line", "smiley", "faces", "likert")
RESPONDENTS = ("child", "mother", "father", "other_carer", "network", "professional", "staff")
DIRECTIONS = ("higher_is_better", "lower_is_better")
SCORINGS = ("sum", "mean", "none")
MISSING_CODES = ("skipped", "dont_know")
#: Who a text is worded for (decision 32): the child, a parent about the child,
#: a professional about the child. Anything not given falls back to the plain text.
WORDING_KINDS = ("child", "parent", "professional")
# Always used with fullmatch: "$" would let a trailing newline through ("ors\n").
_KEY = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}")


class PackError(ValueError):
    """A pack file that does not follow the format; ``problems`` lists each."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True)
class ResponseSpec:
    """How an item is answered and what its numbers mean."""

    kind: str
    min: int
    max: int
    #: 1 for 0.1 steps (the 0–10 line), 10 for whole numbers.
    step_tenths: int
    low: dict[str, str]
    high: dict[str, str]
    direction: str = "higher_is_better"
    dont_know: bool = False
    #: Likert labels: one per whole number from ``min`` to ``max``.
    labels: tuple[dict[str, str], ...] = ()
    #: Faces: how many faces, evenly spaced from ``min`` to ``max``.
    points: int | None = None
    #: A sad face at the low end and a happy face at the high end (child versions).
    end_faces: bool = False

    @property
    def decimals(self) -> int:
        """Decimals shown for this scale: one for the 0–10 line and the faces."""
        return 1 if self.step_tenths == 1 or self.kind == "faces" else 0

    def allowed_tenths(self) -> tuple[int, ...] | None:
        """The values a choice scale allows, in tenths; ``None`` for the continuous line."""
        if self.kind == "line":
            return None
        if self.kind == "faces":
            span = (self.max - self.min) * 10
            return tuple(self.min * 10 + round(span * n / (self.points - 1))
                         for n in range(self.points))
        return tuple(range(self.min * 10, self.max * 10 + 1, 10))


@dataclass(frozen=True)
class Item:
    """One question of a pack."""

    key: str
    text: dict[str, str]
    response: ResponseSpec
    #: A short domain label for graphs and exports.
    label: dict[str, str] = field(default_factory=dict)
    theme: str | None = None


@dataclass(frozen=True)
class Theme:
    """A group of items scored together (a subscale)."""

    key: str
    label: dict[str, str]


@dataclass(frozen=True)
class Band:
    """A named range of the total, such as the child ruler's "vulnerable" (6–7)."""

    min_tenths: int
    max_tenths: int
    label: dict[str, str]


@dataclass(frozen=True)
class CutOff:
    """A clinical cut-off on the total, for subjects of an age band."""

    value_tenths: int
    min_age: int = 0
    max_age: int | None = None


@dataclass(frozen=True)
class Wording:
    """The texts of a pack worded for one kind of respondent; empty ones keep the plain text."""

    title: dict[str, str] = field(default_factory=dict)
    intro: dict[str, str] = field(default_factory=dict)
    #: The ends of every item's scale.
    low: dict[str, str] = field(default_factory=dict)
    high: dict[str, str] = field(default_factory=dict)
    #: Item texts by item key.
    items: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    """One validated version of an instrument pack."""

    id: str
    version: str
    family: str
    title: dict[str, str]
    intro: dict[str, str]
    respondents: tuple[str, ...]
    min_age: int
    max_age: int | None
    timing: str
    items: tuple[Item, ...]
    scoring: str
    cutoffs: tuple[CutOff, ...] = ()
    reliable_change_tenths: int | None = None
    licence: str = ""
    #: Whether cut-offs and effect sizes may be computed from this instrument.
    psychometric: bool = True
    #: Subscales, each scored as ``theme_scoring`` over its items.
    themes: tuple[Theme, ...] = ()
    theme_scoring: str = "mean"
    #: Named ranges of the total (the child ruler's five bands).
    bands: tuple[Band, ...] = ()
    #: A total below this (tenths) is a signal of concern (the ruler's 5.5).
    concern_below_tenths: int | None = None
    #: An item below this (tenths) is worth asking about (session scales: 9).
    item_prompt_below_tenths: int | None = None
    #: SHA-256 of the pack file's data. Hashing the source, not this class,
    #: keeps frozen versions valid when the code learns new optional fields.
    source_digest: str = ""
    #: Texts worded for a kind of respondent (:data:`WORDING_KINDS`).
    wording: dict[str, Wording] = field(default_factory=dict)
    #: Packs that ask much the same (child-meeting and the session scales both ask
    #: whether the child was listened to): ticking both warns on the meeting page.
    overlaps: tuple[str, ...] = ()

    def for_respondent(self, kind: str | None) -> Instrument:
        """This version with the texts worded for ``kind``; itself if the pack has none.

        Only the words change: items, scales and scoring stay the same, so the
        answers are the same whoever was asked.
        """
        words = self.wording.get(kind) if kind else None
        if words is None:
            return self

        def merged(plain: dict[str, str], worded: dict[str, str]) -> dict[str, str]:
            return {**plain, **worded}

        items = tuple(
            replace(item, text=merged(item.text, words.items.get(item.key, {})),
                    response=replace(item.response, low=merged(item.response.low, words.low),
                                     high=merged(item.response.high, words.high)))
            for item in self.items)
        return replace(self, title=merged(self.title, words.title),
                       intro=merged(self.intro, words.intro), items=items)

    def text(self, field: dict[str, str], lang: str) -> str:
        """A text in ``lang``, falling back to English, then Danish."""
        return field.get(lang) or field.get("en") or field.get("da", "")

    def fits(self, role: str, age: int | None) -> bool:
        """Whether this version is meant for a respondent of ``role`` and ``age``."""
        if role not in self.respondents:
            return False
        if age is None:  # an adult
            return self.max_age is None or self.max_age >= 18
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)

    @cached_property
    def total_max_tenths(self) -> int | None:
        """The largest possible total, in tenths (``None`` when not scored)."""
        if self.scoring == "none":
            return None
        if self.scoring == "mean":
            return max(i.response.max for i in self.items) * 10
        return sum(i.response.max * 10 for i in self.items)

    @cached_property
    def value_decimals(self) -> int:
        """Decimals its values are shown with: one on a line scale or a mean, else none."""
        return 1 if any(i.response.decimals for i in self.items) or self.scoring == "mean" else 0

    def cutoff_for(self, age: int | None) -> int | None:
        """The cut-off (tenths) for a subject of ``age``; ``None`` means an adult."""
        if not self.psychometric:
            return None
        age = 18 if age is None else age
        for cut in self.cutoffs:
            if cut.min_age <= age and (cut.max_age is None or age <= cut.max_age):
                return cut.value_tenths
        return None

    def to_json(self) -> dict[str, Any]:
        """The definition as plain data, for freezing in the database."""
        return asdict(self)

    @property
    def digest(self) -> str:
        """SHA-256 of the pack file's data."""
        return self.source_digest

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Instrument:
        """Rebuild a frozen definition stored with an instrument version."""

        def response(d: dict) -> ResponseSpec:
            return ResponseSpec(**{**d, "labels": tuple(d.get("labels", ()))})

        return cls(
            **{
                **data,
                "respondents": tuple(data["respondents"]),
                "items": tuple(
                    Item(**{**i, "response": response(i["response"])}) for i in data["items"]
                ),
                "cutoffs": tuple(CutOff(**c) for c in data.get("cutoffs", ())),
                "themes": tuple(Theme(**t) for t in data.get("themes", ())),
                "bands": tuple(Band(**b) for b in data.get("bands", ())),
                "wording": {k: Wording(**w) for k, w in data.get("wording", {}).items()},
                "overlaps": tuple(data.get("overlaps", ())),
            }
        )


class _Checker:
    """Collects problems while reading a pack's raw data."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def get(self, data: dict, key: str, where: str, kind: type | tuple, required=True):
        path = f"{where}.{key}" if where else key
        if key not in data:
            if required:
                self.fail(path, "is missing")
            return None
        value = data[key]
        if isinstance(value, bool) and kind is not bool and bool not in _tuple(kind):
            self.fail(path, f"must be {_kind_name(kind)}, not true/false")
            return None
        if not isinstance(value, kind):
            self.fail(path, f"must be {_kind_name(kind)}")
            return None
        return value

    def choice(self, data: dict, key: str, where: str, choices: tuple, default=None):
        path = f"{where}.{key}" if where else key
        value = data.get(key, default)
        if value is None:
            self.fail(path, "is missing")
        elif value not in choices:
            self.fail(path, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def texts(self, data: dict, key: str, where: str, required=True) -> dict[str, str]:
        value = self.get(data, key, where, dict, required)
        path = f"{where}.{key}" if where else key
        if value is None:
            return {}
        for lang in LANGUAGES:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                self.fail(f"{path}.{lang}", "text is missing")
        for lang in value:
            if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2,3}", lang):
                self.fail(path, f"unknown language code {lang!r}")
        return {k: v for k, v in value.items() if isinstance(v, str)}


def _tuple(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind) -> str:
    names = {str: "text", int: "a whole number", float: "a number", dict: "a table",
             list: "a list", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in _tuple(kind))


def _response(c: _Checker, data: dict, where: str) -> ResponseSpec | None:
    before = len(c.problems)
    kind = c.choice(data, "type", where, RESPONSE_KINDS)
    lo = c.get(data, "min", where, int)
    hi = c.get(data, "max", where, int)
    step = c.get(data, "step", where, (int, float), required=False)
    step = 1 if step is None else step
    if step not in (0.1, 1):
        c.fail(f"{where}.step", "must be 0.1 or 1")
    if kind != "line" and step != 1:
        c.fail(f"{where}.step", f"a {kind} scale takes whole numbers only (step = 1)")
    points = None
    if kind == "faces":
        points = c.get(data, "points", where, int)
        if isinstance(points, int) and not 2 <= points <= 11:
            c.fail(f"{where}.points", "must be between 2 and 11 faces")
    end_faces = c.get(data, "end_faces", where, bool, required=False) or False
    if isinstance(lo, int) and isinstance(hi, int) and not 0 <= lo < hi <= 10:
        c.fail(f"{where}.min", "range must satisfy 0 <= min < max <= 10")
    low = c.texts(data, "low", where)
    high = c.texts(data, "high", where)
    direction = c.choice(data, "direction", where, DIRECTIONS, "higher_is_better")
    dont_know = c.get(data, "dont_know", where, bool, required=False) or False
    labels: tuple[dict[str, str], ...] = ()
    if kind == "likert":
        raw = c.get(data, "labels", where, list)
        if raw is not None and isinstance(lo, int) and isinstance(hi, int):
            if len(raw) != hi - lo + 1:
                c.fail(f"{where}.labels", f"needs {hi - lo + 1} labels, one per value")
            labels = tuple(
                c.texts({"label": lab}, "label", f"{where}.labels[{n}]")
                for n, lab in enumerate(raw)
            )
    if len(c.problems) > before:
        return None
    return ResponseSpec(kind=kind, min=lo, max=hi, step_tenths=1 if step == 0.1 else 10,
                        low=low, high=high, direction=direction, dont_know=dont_know,
                        labels=labels, points=points, end_faces=end_faces)


#: Fields that guide the meeting page, not what a respondent reads or how answers
#: are scored; left out of the digest so declaring them needs no new version.
_NOT_WORDING = ("overlaps",)


def _worded_data(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in _NOT_WORDING}


def _wording(c: _Checker, data: dict, item_keys: set[str]) -> dict[str, Wording]:
    """The ``[wording.<kind>]`` tables: texts for the child, a parent, a professional."""
    raw = c.get(data, "wording", "", dict, required=False) or {}
    found: dict[str, Wording] = {}
    for kind, table in raw.items():
        where = f"wording.{kind}"
        if kind not in WORDING_KINDS:
            c.fail("wording", f"unknown respondent kind {kind!r}; use {', '.join(WORDING_KINDS)}")
            continue
        if not isinstance(table, dict):
            c.fail(where, "must be a table")
            continue
        for key in table:
            if key not in ("title", "intro", "low", "high", "items"):
                c.fail(where, f"unknown text {key!r}; use title, intro, low, high or items")
        texts = {key: c.texts(table, key, where, required=False)
                 for key in ("title", "intro", "low", "high")}
        items: dict[str, dict[str, str]] = {}
        for key, text in (c.get(table, "items", where, dict, required=False) or {}).items():
            if key not in item_keys:
                c.fail(f"{where}.items", f"unknown item {key!r}")
                continue
            items[key] = c.texts({key: text}, key, f"{where}.items")
        found[kind] = Wording(items=items, **texts)
    return found


def validate_pack(data: dict, source: str) -> Instrument:
    """Turn a pack's raw data into an :class:`Instrument`, or raise :class:`PackError`."""
    c = _Checker()
    pack_id = c.get(data, "id", "", str)
    if pack_id is not None and not _KEY.fullmatch(pack_id):
        c.fail("id", "use lower-case letters, digits, '-' or '_' (max 64)")
    version = c.get(data, "version", "", str)
    if version is not None and not _VERSION.fullmatch(version):
        c.fail("version", "must be a short version such as 1.0")
    family = c.get(data, "family", "", str)
    if family is not None and not _KEY.fullmatch(family):
        c.fail("family", f"must be one of {', '.join(FAMILIES)} or a custom lower-case name")
    title = c.texts(data, "title", "")
    intro = c.texts(data, "intro", "")
    respondents = c.get(data, "respondents", "", list) or []
    for r in respondents:
        if r not in RESPONDENTS:
            c.fail("respondents", f"unknown respondent {r!r}; use {', '.join(RESPONDENTS)}")
    ages = c.get(data, "ages", "", dict) or {}
    min_age = c.get(ages, "min", "ages", int) if ages else None
    max_age = c.get(ages, "max", "ages", int, required=False) if ages else None
    if isinstance(min_age, int) and isinstance(max_age, int) and min_age > max_age:
        c.fail("ages", "min is above max")
    timing = c.choice(data, "timing", "", TIMINGS)
    scoring_table = c.get(data, "scoring", "", dict) or {}
    scoring = c.choice(scoring_table, "total", "scoring", SCORINGS) if scoring_table else None
    licence = c.get(data, "licence", "", str, required=False) or ""
    psychometric = c.get(data, "psychometric", "", bool, required=False)
    rc = c.get(data, "reliable_change", "", (int, float), required=False)

    default_response = data.get("response")
    items_raw = c.get(data, "items", "", list) or []
    if not items_raw and "items" in data:
        c.fail("items", "needs at least one item")
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(items_raw):
        where = f"items[{n}]"
        if not isinstance(raw, dict):
            c.fail(where, "must be a table")
            continue
        key = c.get(raw, "key", where, str)
        if key is not None:
            if not _KEY.fullmatch(key):
                c.fail(f"{where}.key", "use lower-case letters, digits, '-' or '_'")
            if key in seen:
                c.fail(f"{where}.key", f"{key!r} is used twice")
            seen.add(key)
        text = c.texts(raw, "text", where)
        label = c.texts(raw, "label", where, required=False)
        merged = {**(default_response or {}), **raw.get("response", {})}
        if not merged:
            c.fail(f"{where}.response", "is missing (give it here or as the pack's [response])")
            continue
        response = _response(c, merged, f"{where}.response")
        if key and response:
            items.append(Item(key=key, text=text, response=response, label=label,
                              theme=raw.get("theme")))

    cutoffs: list[CutOff] = []
    for n, raw in enumerate(c.get(data, "cutoffs", "", list, required=False) or []):
        where = f"cutoffs[{n}]"
        value = c.get(raw, "value", where, (int, float))
        lo = c.get(raw, "min_age", where, int, required=False) or 0
        hi = c.get(raw, "max_age", where, int, required=False)
        if isinstance(value, (int, float)):
            total_max = sum(i.response.max for i in items) if scoring == "sum" else 10
            if not 0 <= value <= total_max:
                c.fail(f"{where}.value", f"must be within the total's range 0–{total_max}")
            cutoffs.append(CutOff(value_tenths=round(value * 10), min_age=lo, max_age=hi))

    themes: list[Theme] = []
    for n, raw in enumerate(c.get(data, "themes", "", list, required=False) or []):
        where = f"themes[{n}]"
        key = c.get(raw, "key", where, str)
        label = c.texts(raw, "label", where)
        if key is not None and not _KEY.fullmatch(key):
            c.fail(f"{where}.key", "use lower-case letters, digits, '-' or '_'")
        elif key:
            themes.append(Theme(key=key, label=label))
    theme_keys = {t.key for t in themes}
    for n, item in enumerate(items):
        if item.theme is not None and item.theme not in theme_keys:
            c.fail(f"items[{n}].theme", f"unknown theme {item.theme!r}; declare it in [[themes]]")
    theme_scoring = scoring_table.get("themes", "mean") if scoring_table else "mean"
    if theme_scoring not in ("mean", "sum"):
        c.fail("scoring.themes", "must be mean or sum")

    bands: list[Band] = []
    for n, raw in enumerate(c.get(data, "bands", "", list, required=False) or []):
        where = f"bands[{n}]"
        lo = c.get(raw, "min", where, (int, float))
        hi = c.get(raw, "max", where, (int, float))
        label = c.texts(raw, "label", where)
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
            if lo > hi:
                c.fail(where, "min is above max")
            bands.append(Band(min_tenths=round(lo * 10), max_tenths=round(hi * 10), label=label))
    wording = _wording(c, data, {i.key for i in items})
    overlaps = c.get(data, "overlaps", "", list, required=False) or []
    for other in overlaps:
        if not isinstance(other, str) or not _KEY.fullmatch(other) or other == pack_id:
            c.fail("overlaps", f"{other!r} is not another pack's id")
    concern = c.get(data, "concern_below", "", (int, float), required=False)
    prompt = c.get(data, "item_prompt_below", "", (int, float), required=False)

    if c.problems:
        raise PackError(source, c.problems)
    return Instrument(
        id=pack_id, version=version, family=family, title=title, intro=intro,
        respondents=tuple(respondents), min_age=min_age or 0, max_age=max_age, timing=timing,
        items=tuple(items), scoring=scoring, cutoffs=tuple(cutoffs),
        reliable_change_tenths=None if rc is None else round(rc * 10), licence=licence,
        psychometric=True if psychometric is None else psychometric,
        themes=tuple(themes), theme_scoring=theme_scoring, bands=tuple(bands),
        concern_below_tenths=None if concern is None else round(concern * 10),
        item_prompt_below_tenths=None if prompt is None else round(prompt * 10),
        wording=wording, overlaps=tuple(overlaps),
        source_digest=hashlib.sha256(
            json.dumps(_worded_data(data), sort_keys=True, ensure_ascii=False, default=str).encode()
        ).hexdigest(),
    )
