"""Which articles a question may be answered from: published after or before a date, from some outlets.

Applied inside retrieval, before the top k are chosen (a mask over each segment's chunks for BM25 and
exact search, a FAISS ID selector for IVF), so a filtered question gets k passages that pass, not the
ones of the k best that happen to. An article whose date or outlet is unknown does not pass a filter
on it: it cannot be known to be "since January" or "in the Guardian".
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from dateutil import parser

from .errors import InvalidQuestionError
from .metadata import human_date

KEYS = ("after", "before", "outlet")


@dataclass(frozen=True)
class Filters:
    """`after`: published on or after this day (YYYY-MM-DD); `before`: before this day; `outlet`: one of these
    (compared without case)."""

    after: str | None = None
    before: str | None = None
    outlet: tuple[str, ...] | None = None

    @classmethod
    def of(cls, filters: dict | Filters | None) -> Filters | None:
        """From ask()'s `filters` dict (or Filters); None when nothing is filtered; InvalidQuestionError when malformed."""
        if filters is None or isinstance(filters, Filters):
            return filters or None
        if not isinstance(filters, dict) or set(filters) - set(KEYS):
            raise InvalidQuestionError(f"filters must be a dict with keys among {', '.join(KEYS)}, not {filters!r}")
        outlet = filters.get("outlet")
        if isinstance(outlet, str):
            outlet = [outlet]
        if outlet is not None and (
            not isinstance(outlet, (list, tuple)) or not all(isinstance(o, str) and o.strip() for o in outlet)
        ):
            raise InvalidQuestionError(f"filters['outlet'] must be an outlet's name or a list of them, not {outlet!r}")
        found = cls(
            _day(filters.get("after"), "after"),
            _day(filters.get("before"), "before"),
            tuple(o.strip() for o in outlet) if outlet else None,
        )
        if found.after and found.before and found.after >= found.before:
            raise InvalidQuestionError(
                f"no day is on or after {found.after} and before {found.before}: check the filter's dates"
            )
        return found or None

    def __bool__(self) -> bool:
        return any((self.after, self.before, self.outlet))

    @property
    def outlets(self) -> frozenset[str] | None:
        """The outlets asked for, case-folded (None: any)."""
        return frozenset(o.casefold() for o in self.outlet) if self.outlet else None

    def admits(self, published: str | None, outlet: str | None) -> bool:
        """Whether an article of this date and outlet passes."""
        if (self.after or self.before) and not published:
            return False
        if (self.after and published < self.after) or (self.before and published >= self.before):
            return False
        return self.outlets is None or (outlet is not None and outlet.casefold() in self.outlets)

    def describe(self, documents) -> str:
        """What the filters leave of the library, as the chat says it above a reply: "Filtered to 2 of 5 articles:
        published on or after 1 Jan 2025; 3 undated articles left out". `documents`: the store's `DocumentInfo`s."""
        documents = list(documents)
        kept = sum(self.admits(d.meta.published, d.meta.outlet) for d in documents)
        said = []
        if self.after:
            said.append(f"published on or after {human_date(self.after)}")
        if self.before:
            said.append(f"published before {human_date(self.before)}")
        if self.outlet:
            said.append("from " + " or ".join(self.outlet))
        if self.after or self.before:
            undated = sum(not d.meta.published for d in documents)
            if undated:
                said.append(f"{_articles(undated, 'undated ')} left out")
        if self.outlet:
            unknown = sum(not d.meta.outlet for d in documents)
            if unknown:
                said.append(f"{_articles(unknown)} of unknown outlet left out")
        return f"Filtered to {kept} of {_articles(len(documents))}: " + "; ".join(said)


DATE_EXAMPLE = "3 Jan 2025"
_YEAR_FIRST = re.compile(r"(\d{4})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})")
_NUMERIC = re.compile(r"\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}")  # "3/1/2025": 3 Jan or 1 Mar?


def read_date(value) -> str | None:
    """A day as people type it ("2025-01-03", "3 Jan 2025", "January 3, 2025", "3rd January 2025") as YYYY-MM-DD;
    None when blank. InvalidQuestionError, in words a reader understands, when it is not one whole day or could be
    two ("3/1/2025": write the month as a word)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = " ".join(str(value).split())
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    if year_first := _YEAR_FIRST.fullmatch(text):  # "2025/1/3" is always year, month, day
        try:
            return datetime.date(*(int(n) for n in year_first.groups())).isoformat()
        except ValueError:
            raise InvalidQuestionError(f"Couldn't read “{text}” as a date: write it like {DATE_EXAMPLE}") from None
    if _NUMERIC.fullmatch(text):
        first, second = (int(n) for n in re.findall(r"\d+", text)[:2])
        if first <= 12 and second <= 12 and first != second:
            raise InvalidQuestionError(
                f"“{text}” could be {_day_month(first, second)} or {_day_month(second, first)}: write the month as a "
                f"word, like {DATE_EXAMPLE}"
            )
    try:
        one = parser.parse(text, default=datetime.datetime(2001, 1, 1), dayfirst=True)
        two = parser.parse(text, default=datetime.datetime(2002, 2, 2), dayfirst=True)
    except (ValueError, OverflowError, TypeError):
        one = two = None
    if one is None or one != two or (one.hour, one.minute, one.second) != (0, 0, 0):
        raise InvalidQuestionError(f"Couldn't read “{text}” as a date: write it like {DATE_EXAMPLE}")
    return one.date().isoformat()


def _day_month(day: int, month: int) -> str:
    return f"{day} {datetime.date(2000, month, 1):%b}"


def _articles(count: int, kind: str = "") -> str:
    return f"{count} {kind}article{'' if count == 1 else 's'}"


def _day(value, name: str) -> str | None:
    """The filter's day; its error names the filter, for API and CLI callers."""
    try:
        return read_date(value)
    except InvalidQuestionError as exc:
        raise InvalidQuestionError(f"filters['{name}']: {exc}") from None
