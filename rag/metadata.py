"""A document's text → what a reader cites it by: title, outlet, publication date, author, URL.

From YAML front matter where a .md or .txt file has it, else from the text itself: a dateline ("Thursday,
19 December 2024"), a byline ("By Jane Doe"), a headline on the first line, also one glued to the first
sentence as copied pages have it ("Putin Says He's Ready to Talk Russian President Vladimir Putin stated…").
What the text does not say is None, never guessed (HTML pages get trafilatura's metadata in documents.py).
The headline's range is returned too, so that it ends a sentence of its own.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.DOTALL)
_KEYS = {
    "title": ("title", "headline"),
    "outlet": ("outlet", "site", "site_name", "sitename", "publisher", "source", "publication"),
    "published": ("published", "date", "published_at", "pubdate"),
    "author": ("author", "authors", "byline", "by"),
    "url": ("url", "link", "canonical", "source_url"),
}
_MONTHS = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATELINE = re.compile(
    rf"""^\W*(?:(?:published|posted|updated|last\s+updated)(?:\s+on)?:?\s*)?
    (?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?
    (?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}} | {_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}} | \d{{4}}-\d{{2}}-\d{{2}})
    (?:,?\s+(?:at\s+)?\d{{1,2}}[:.]\d{{2}}\s*(?:am|pm|a\.m\.|p\.m\.)?(?:\s+[A-Z]{{2,4}})?)?\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
# "By Jane Doe", "BY JANE DOE, Moscow Correspondent": two to four name words, then at most a short role or outlet.
BYLINE = re.compile(
    r"^\s*[Bb][Yy]\s+(?!(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|(?:january|february|march|april|june|july|august|september|october|november|december)\b)"
    r"([A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|al|and|&)){1,3})\s*(?:[,|·•–—-]\s*[^.!?]{0,60})?$",
    re.IGNORECASE,
)
LINE = re.compile(r"[^\n]+")  # a line of text, without its line end
_ENDS_PUNCTUATED = re.compile(r"[.!:;,…][\"'”’)\]]*\s*$")  # a headline does not (a question mark may)
_SMALL = frozenset(
    "a an the and or but nor of to in on at for with by from about as into over after before amid vs vs. via per is are".split()
)
_OPENERS = frozenset(
    "the a an president prime former u.s. us uk eu city police officials mayor minister chancellor "
    "governor senator judge sir dr mr mrs ms secretary scientists researchers".split()
)
# "© 2025 Northern Courier Media Ltd. All rights reserved.", "Copyright (c) 2024 Metro Wire": a sign or a year, then the name.
_COPYRIGHT = re.compile(
    r"^\W*(?:©|\([cC]\)|[Cc]opyright\s+(?:©|\([cC]\)|(?=\d{4})))\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*)?"
    r"([A-Z][\w&'’-]*(?:\s+[\w&'’-]+){0,5}?)\s*(?:[.|,]|[Aa]ll\s+[Rr]ights|$)"
)
_COMPANY = re.compile(r"(\s+(media|group|publishing|holdings|ltd|limited|plc|inc|llc|gmbh|co)\.?)+$", re.IGNORECASE)
HEADLINE_WORDS = 25


@dataclass(frozen=True)
class Metadata:
    """What a reader cites an article by; documents, chunks, passages and citations carry it as `meta`.
    None where the article does not say and nobody set it."""

    title: str | None = None
    outlet: str | None = None
    published: str | None = None  # ISO date, YYYY-MM-DD
    author: str | None = None
    url: str | None = None

    def merged(self, other: Metadata) -> Metadata:
        """These fields, with `other`'s where these are unknown."""
        return Metadata(
            *(mine if mine is not None else theirs for mine, theirs in zip(self.astuple(), other.astuple()))
        )

    def astuple(self) -> tuple:
        """The fields in order: title, outlet, published, author, url."""
        return self.title, self.outlet, self.published, self.author, self.url


def front_matter(text: str) -> tuple[Metadata, int]:
    """The metadata of a YAML front matter block opening the text, and where the article starts after it
    ((Metadata(), 0) without one; a block that is not YAML is left as text)."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if not match:
        return Metadata(), 0
    try:
        data = yaml.load(match.group(1) or "", Loader=yaml.BaseLoader) or {}  # every value text: iso_date judges dates
    except yaml.YAMLError:
        return Metadata(), 0
    if not isinstance(data, dict):
        return Metadata(), 0
    lowered = {str(k).lower(): v for k, v in data.items()}
    found = {
        field: next((lowered[k] for k in keys if lowered.get(k) not in (None, "")), None)
        for field, keys in _KEYS.items()
    }
    if isinstance(found["author"], list):
        found["author"] = ", ".join(map(str, found["author"]))
    published = iso_date(found.pop("published"))
    return Metadata(**{k: _text(v) for k, v in found.items()}, published=published), match.end()


def human_date(published: str | None) -> str | None:
    """A YYYY-MM-DD date as people write it: "19 Dec 2024"."""
    if not published:
        return None
    day = datetime.date.fromisoformat(published)
    return f"{day.day} {day:%b %Y}"


def iso_date(value) -> str | None:
    """YYYY-MM-DD of a date, datetime or date text that names its day unambiguously (ISO, or a month by name with
    a day and a year: "19 December 2024", "Jan 23, 2025 18.00 GMT"); None otherwise ("12/01/2024", "March 2024")."""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if iso := re.match(r"(\d{4}-\d{2}-\d{2})(?:[T ]|$)", value):
        try:
            return datetime.date.fromisoformat(iso.group(1)).isoformat()
        except ValueError:
            return None
    if not (
        re.search(rf"\b{_MONTHS}(?!\w)", value, re.IGNORECASE)
        and re.search(r"\b\d{4}\b", value)
        and re.search(r"\b\d{1,2}(?:st|nd|rd|th)?\b(?![:.]\d)", value)
    ):
        return None
    from dateutil import parser

    try:
        day = parser.parse(
            re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", value), default=datetime.datetime(1, 1, 1), ignoretz=True
        )
    except (ValueError, OverflowError):
        return None
    return day.date().isoformat()


class TextMetadata:
    """Reads title, date and author from the first lines of an article's text; `skipped`: ranges that are
    not article (front matter, furniture). Returns the metadata and the headline's range (if any). The dateline
    and byline stay article text, lines of their own that a question about the date or the author can quote."""

    def __init__(self, lines: int = 6):
        self.lines = lines  # how far down the text a dateline, byline or headline is looked for

    def run(self, text: str, skipped: list[tuple[int, int]] = ()) -> tuple[Metadata, tuple[int, int] | None]:
        published = author = title = headline = None
        seen, looking = 0, True  # looking: for a headline, until the first sentence
        for line in LINE.finditer(text):
            value = line.group().strip()
            if not value or any(a <= line.start() < b for a, b in skipped):
                continue
            seen += 1
            if seen > self.lines:
                break
            if published is None and DATELINE.match(value):
                published = iso_date(
                    re.sub(r"^\W*(published|posted|updated|last\s+updated)(\s+on)?:?", "", value, flags=re.I)
                )
            elif author is None and (byline := BYLINE.match(value)):
                author = byline.group(1)
            elif looking:
                value = value.lstrip("#").strip()  # a Markdown heading
                start = line.start() + len(line.group()) - len(line.group().lstrip().lstrip("#").lstrip())
                cut = _headline_end(value)
                looking = False  # the article begins here, with its headline or a sentence
                if cut is not None:
                    title, headline = value[:cut], (start, start + cut)
        return Metadata(title, _outlet(text), published, author, None), headline


def _headline_end(line: str) -> int | None:
    """Where a headline opening this line ends: the whole line when it reads as one (up to HEADLINE_WORDS
    words, no closing full stop), or the end of a Title-Case run glued to the first sentence, cut before the
    sentence's subject ("…Peace Deal | Russian President Vladimir Putin stated"); None when it opens with a sentence."""
    words = list(re.finditer(r"\S+", line))
    if len(words) <= HEADLINE_WORDS and not _ENDS_PUNCTUATED.search(line):
        return len(line)
    run = 0
    for word in words:
        bare = word.group().strip("'\"‘’“”()[],:")
        if not bare or not (bare[0].isupper() or bare[0].isdigit() or bare.lower() in _SMALL):
            break
        run += 1
    if run < 6 or run >= len(words):
        return None
    capitalised = [i for i in range(run) if words[i].group().strip("'\"‘’“”")[:1].isupper()]
    subject = next(
        (
            i
            for i in range(max(1, run - 5), run)
            if (words[i].group().lower().strip("'\"‘’“”,") in _OPENERS or _demonym(words[i].group()))
            and words[i - 1].group().lower() not in _SMALL
        ),  # "…for City Flats" goes on
        capitalised[-1] if capitalised else run - 1,
    )
    return words[subject - 1].end() if subject >= 4 else None


def _outlet(text: str) -> str | None:
    """The outlet a copyright line names ("© 2025 Northern Courier Media Ltd. All rights reserved." → Northern Courier)."""
    for line in reversed(text[-3000:].splitlines()):
        if match := _COPYRIGHT.match(line):
            name = _COMPANY.sub("", match.group(1)).strip(" ,.-–|")
            return name or None
    return None


def _demonym(word: str) -> bool:
    word = word.strip("'\"‘’“”,")
    return word[:1].isupper() and word.lower().endswith(("ian", "ese", "ish", "ean", "ern")) and len(word) > 4


def _text(value) -> str | None:
    return str(value).strip() or None if value is not None else None


def flattened(record: dict) -> dict:
    """A record (a dataclass as `asdict` gives it) with its `meta` fields beside its own, as the JSON shows them."""
    return {k: v for k, v in record.items() if k != "meta"} | record["meta"]
