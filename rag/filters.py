"""Which articles a question may be answered from: published after or before a date, from some outlets.

Applied inside retrieval, before the top k are chosen (a mask over each segment's chunks for BM25 and
exact search, a FAISS ID selector for IVF), so a filtered question gets k passages that pass, not the
ones of the k best that happen to. An article whose date or outlet is unknown does not pass a filter
on it: it cannot be known to be "since January" or "in the Guardian".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .errors import InvalidQuestionError

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


def _day(value, name: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise InvalidQuestionError(f"filters['{name}'] must be a date as YYYY-MM-DD, not {value!r}") from None
