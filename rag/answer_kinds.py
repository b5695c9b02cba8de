"""What kind of thing a question asks for (a date, a number, a percentage, a price, a person, a place, an
organisation) and whether a span is that kind of thing: "What percentage tariff…?" answered "higher tariffs"
is a span of the wrong kind, a sign that the reader found no answer. Rules over the words, not a model: a
question's kind shows in a handful of phrasings, and a span's in its digits, dates and capitalised names."""

from __future__ import annotations

import re

from .lexical import names, places

_ASKS = [  # the first that matches is the kind asked for; the order settles "how much does it cost" before "how much"
    (
        "percent",
        r"\b(?:what|which)\s+(?:percentage|percent|per\s+cent|proportion|share)\b|\bhow\s+many\s+per\s*cent\b|"
        r"\bby\s+how\s+much\s+percent",
    ),
    (
        "money",
        r"\b(?:what|which)\s+(?:\w+\s+)?(?:price|cost|fee|salary|wage|budget|fine|sum|amount\s+of\s+money)\b|"
        r"\bhow\s+much\b.*\b(?:cost|costs|pay|paid|spend|spent|worth|price|charge|earn|raise|raised|money|fund)\w*|"
        r"\bhow\s+much\s+money\b",
    ),
    (
        "date",
        r"^\W*when\b|\b(?:what|which)\s+(?:date|day|year|month|decade|century|time\s+of\s+year)\b|\bin\s+what\s+year\b|"
        r"\bsince\s+when\b|\bhow\s+long\s+ago\b",
    ),
    (
        "number",
        r"\bhow\s+(?:many|much|long|old|far|tall|big|large|high|deep|often|fast)\b|\b(?:what|which)\s+(?:number|age|size)\b",
    ),
    (
        "person",
        r"^\W*(?:who|whom)\b|\bwhose\b|\b(?:what|which)\s+(?:\w+\s+)?(?:person|man|woman|journalist|reporter|leader|"
        r"president|minister|official|spokes(?:man|woman|person)|politician|author|writer|editor|presenter|host|"
        r"interviewer|envoy|king|queen|general|commander|ceo|chairman|founder|actor|player|singer)\b",
    ),
    (
        "place",
        r"^\W*where\b|\b(?:what|which)\s+(?:country|countries|city|cities|town|village|place|region|state|nation|"
        r"capital|location|continent|island|province|venue)\b|\bin\s+what\s+(?:country|city|place)\b",
    ),
    (
        "organisation",
        r"\b(?:what|which)\s+(?:\w+\s+)?(?:company|companies|organi[sz]ation|agency|outlet|newspaper|paper|"
        r"broadcaster|network|channel|party|group|team|club|bank|firm|university|institution|alliance)\b",
    ),
]
_ASKS = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _ASKS]

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds "
    "thousand thousands million millions billion billions trillion dozen dozens half first second third "
    "once twice"
).split()
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"\d|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d\s*%|\bper\s*cent\b|\bpercent(?:age)?\b|\bpercentage\s+points?\b", re.IGNORECASE)
_MONEY = re.compile(
    r"[$€£¥₽]\s*\d|\d\s*(?:[$€£¥₽]|usd|eur|gbp)|\b(?:dollars?|euros?|pounds?|roubles?|rubles?|yen|cents?|"
    r"pence|francs?|yuan|hryvnias?)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:" + "|".join(_MONTHS) + r")\b\.?|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|today|tomorrow|tonight|weekend|week|month|year|decade|century|spring|summer|autumn|fall|"
    r"winter|christmas|days?|weeks|months|years|ago|later|earlier|recently|soon)\b|\b(?:1[5-9]|20)\d\d\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{1,2}/\d{1,2}\b|\b(?:19|20)\d0s\b",
    re.IGNORECASE,
)


def asked(question: str) -> str | None:
    """The kind of answer `question` asks for, or None where it asks for none in particular ("What did he say?")."""
    return next((kind for kind, pattern in _ASKS if pattern.search(question)), None)


def is_kind(span: str, kind: str) -> bool:
    """Whether `span` can be an answer of `kind`: a percentage has a per cent, a price a currency or a figure, a date a day, month,
    year or span of time, a number a figure or number word, a person a name that is no place, a place or
    organisation a name."""
    if kind in ("percent", "money", "date", "number"):
        pattern = {"percent": _PERCENT, "money": _MONEY, "date": _DATE, "number": _NUMBER}[kind]
        return bool(pattern.search(span)) or (kind == "money" and bool(_DIGIT.search(span)) and "%" not in span)
    found = names(span, opening=True)
    if kind == "person":
        return any(name not in places() for name in found)
    return bool(found)


def match(question: str, span: str) -> float:
    """1 where the span is the kind of answer the question asks for, -1 where it is not, 0 where it asks for no kind."""
    kind = asked(question)
    return 0.0 if kind is None else 1.0 if is_kind(span, kind) else -1.0
