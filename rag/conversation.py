"""A follow-up question + the conversation so far → the question as it is meant, without generating text.

People chat in follow-ups: "Why?", "When did he say it?", "And Zelensky?". An extractive reader and a
retriever both need the question whole, so a follow-up is resolved against the earlier turns (their
questions, answer spans and cited articles) by rules that only move words the conversation already
holds: a pronoun that points back becomes the name it points to; a bare "Why?" or "When?" carries the
earlier question over; "And Zelensky?" asks the earlier question of the new name. The resolved question
is what retrieval and the reader read, and the chunks where the last answer was cited take the place of
the last retrieved passages. A question that names its own subject is left alone, so a change of subject is not
dragged back. What was taken from which turn is kept as a `Context`, for a page to show.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, is_dataclass, replace

from .errors import InvalidQuestionError
from .lexical import QUESTION_WORDS, Analyzer, names, places

# Words that point back at something the conversation named, or at what was said in it.
_POSSESSIVE = re.compile(r"\b(his|her|its|their)\b", re.IGNORECASE)  # points back only in a question naming no one
_PERSONAL = re.compile(r"\b(he|she|him|hers|they|them)\b", re.IGNORECASE)
_POINTING = re.compile(
    r"\b(it|that|this|those|these|there|then|"
    r"reply|replied|respond|responded|response|react|reacted|answer|answered|else|other|too|also|again|next|"
    r"afterwards?|same)\b",
    re.IGNORECASE,
)
_ENDS_POINTING = re.compile(  # "…dislike it?", "…been this deep?": points back at any length; "…this week?" points at now
    r"\b(?:it|them|(?:that|those)(?:\s+\w+)?|(?:this|these)(?:\s+(?!(?:week|weekend|month|year|morning|afternoon|evening|"
    r"days|time|season|spring|summer|autumn|winter)\b)\w+)?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_IT_ACTS = re.compile(  # "…did it appear…"; not "will it take", "what does it mean", "has it been": "it" holds a place there
    r"\b(?:do|does|did|will|would|can|could|should|has|had|might|may)\s+it\b(?!\s+(?:take|takes|cost|costs|be|been|ever|"
    r"seem|mean|matter|become|require|make|happen|rain|snow)\b)",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|what about|how about|and what about|and how about)\b[\s,]*(.*?)[\s?.!]*$", re.IGNORECASE
)
_CLAUSE = re.compile(  # "Zelensky, is he up for talks" after "What about": a name, then a question of its own about it
    r"([^,]+),\s*((?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|how|what|why|when|where|who)\b.*)",
    re.IGNORECASE,
)
_NAME_POINTER = re.compile(r"\b(he|she|they|him|them)\b", re.IGNORECASE)  # in that question, the name
_WORD = re.compile(r"\w+(?:[.'’-]\w+)*")  # "U.S", "late-night", "Ukraine's"
MAX_CARRIED_WORDS = 12
MAX_HISTORY = 20  # earlier turns read, the most recent
_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers)\b", re.IGNORECASE)
_ASKS_WHO = re.compile(r"\s*(who|whom|whose|which)\b", re.IGNORECASE)
_WHO_IS = re.compile(r"\s*who\s+(?:is|was)\s+(.+?)[\s?.!]*$", re.IGNORECASE)  # "Who is Dmitry Peskov?": he is Peskov
_PLACE = r"\b(?i:in|into|near|across)\s+(?:the\s+)?"  # before a name, a place ("in Kyiv"; not "at Trump", "to Putin")
_ASKS_REPLY = re.compile(r"\b(reply|replied|respond|responded|response|react|reacted|answer|answered)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Context:
    """How a follow-up was understood: `question` is what was read, `about` what it is about (the name "he" or
    "she" became, else the earlier question as understood, or what that was about where it said nothing itself),
    `turn` the earlier turn it came from (0 = the oldest), `how` the rule that applied; `source` and `offset`: where
    the earlier answer was cited, whose passages were added;
    `carried`: the earlier turns' words read with it, which a later follow-up carries on;
    `leans_on`: the earlier turn whose question it is read with (after a bare "Why?", the turn that was about; -1: `turn`),
    `asked`: that turn's question as its user typed it, `by_name`: whether `about` is a name ("he" became it)."""

    question: str
    about: str
    turn: int
    how: str
    source: str | None = None
    offset: int = 0
    carried: str = ""
    leans_on: int = -1
    asked: str = ""
    by_name: bool = False

    @property
    def resolved(self) -> str:
        """The question as understood, without the earlier turns' words it carries in brackets."""
        return without_carried(self.question, self.carried)

    def describe(self, turns: int) -> str:
        """As a person reads it, in a conversation of `turns` earlier answers: "about: Zelenskyy, from your previous
        question", or the earlier question it leans on as its user typed it: "about: “What did Trump ask OPEC to do?”,
        from your question 1"."""
        about = _shortened(self.about) if self.by_name or not self.asked else f"“{_shortened(self.asked)}”"
        return f"about: {about}, from {self._earlier(turns)}"

    def read_with(self, turns: int, asked: str) -> str:
        """How it was read, for a hover, in words the user or the articles wrote, not the carried keywords: "Read with
        your question 1, “What did Trump ask OPEC to do?”", and where words were put in the question `asked` (a name
        for "he"), "Read as “When did Zelenskyy say it?”, with your previous question, “Who said…?”"."""
        earlier = self._earlier(turns) + (f", “{self.asked}”" if self.asked else "")
        if self.resolved.strip() != (asked or "").strip():
            return f"Read as “{self.resolved}”, with {earlier}"
        return f"Read with {earlier}"

    def _earlier(self, turns: int) -> str:
        turn = self.turn if self.leans_on < 0 else self.leans_on
        return "your previous question" if turn == turns - 1 else f"your question {turn + 1}"


@dataclass(frozen=True)
class Said:
    """An answer span the conversation already gave, as offsets into its document: a follow-up asks for
    something new, so it is not given again. Its sentence may be quoted again: a follow-up's answer often stands
    beside the earlier one (docs/decisions/2026-12-02-follow-up-carrying.md)."""

    source: str
    start: int
    end: int
    goes_on: bool = (
        False  # a whole statement: the sentences right after it that point back to it ("He noted, …") say it on
    )


@dataclass(frozen=True)
class Turn:
    """What the resolver needs of an earlier answer: its question as it was understood, its answer span,
    and where it was cited."""

    question: str
    answer: str | None
    source: str | None
    offset: int = 0
    asked: str = ""  # as its user typed it
    carried: str = ""  # what it carried from the turn before, when it was a follow-up
    said: Said | None = None  # its answer span
    quoted: Said | None = None  # its whole quote
    about: str = ""  # what it was about, when it was a follow-up
    leans_on: int = -1  # the earlier turn whose question it was read with, when it was a follow-up (-1: none known)

    @property
    def resolved(self) -> str:
        """Its question as understood, without the earlier turns' words it carried in brackets."""
        return without_carried(self.question, self.carried)

    @classmethod
    def of(cls, answer) -> Turn:
        """From an Answer, its `to_dict()` (what the /ask endpoint returns) or a Turn; anything else is refused."""
        if isinstance(answer, Turn):
            return answer
        return cls.from_dict(_essentials(answer) if is_dataclass(answer) else answer)

    @classmethod
    def from_dict(cls, data: dict) -> Turn:
        """From an answer's `to_dict()`: its question, context, span and first citation are read."""
        try:
            context, span, citations = data.get("context") or {}, data.get("span") or {}, data.get("citations") or []
            asked = data["question"]
            question = context.get("question") or asked
            if not isinstance(question, str) or not isinstance(asked, str):
                raise TypeError("question is not text")
            cited = citations[0] if citations and not data.get("abstained") else {}
            said = Said(cited["source"], int(span["start"]), int(span["end"])) if cited and span else None
            quoted = Said(cited["source"], int(cited["start"]), int(cited["end"])) if cited else None
            return cls(
                question,
                span.get("text") if cited else None,
                cited.get("source"),
                int(cited.get("start", 0)),
                asked,
                str(context.get("carried") or ""),
                said,
                quoted,
                str(context.get("about") or ""),
                int(context["leans_on"]) if context.get("leans_on") is not None else -1,
            )
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise InvalidQuestionError(
                "history must be the conversation's earlier answers, oldest first, as ask() "
                f"returned them (Answer objects or their to_dict()): {exc}"
            ) from None


class History(tuple):
    """The conversation so far, oldest first: one Turn per earlier answer."""

    @classmethod
    def of(cls, answers) -> History:
        """From ask()'s earlier answers (Answer objects, their `to_dict()`, or Turns); None or [] is no history."""
        return answers if isinstance(answers, History) else cls(Turn.of(answer) for answer in answers or ())

    @classmethod
    def from_dict(cls, data: list[dict]) -> History:
        """From a list of answers' `to_dict()`, as a JSON request carries the history."""
        return cls(Turn.from_dict(answer) for answer in data)


class FollowUpResolver:
    """Resolves a question against the conversation's earlier turns, oldest first; None when it stands alone.

    A question is a follow-up when it points back or is too short to stand alone (fewer than `min_terms`
    content words). A personal pronoun ("he", "they"; "his" in a question naming no one) points back in a
    question of any length; "it", "that", "there", "reply", "else"… only in a short one (at most
    `min_terms` + 1 content words), since in a longer one they mostly point inside it, except where "it" acts ("On
    what Forbes list did it appear in 2013?") or ends the question ("…dislike it?"). A question naming
    someone the conversation has not named has changed the subject, unless it is short and points back
    ("What did Putin reply?") or "it" acts or ends it. A follow-up is read with its "he" or "she" replaced by
    whom the earlier turns name and the earlier question's words (and answer) carried in brackets; "And
    Zelensky?" is the earlier question asked of the new name, "What about Zelensky, is he up for talks?" its own
    question asked of it; "And if Trump loses, what will he do?", a question of its own after the comma, is neither."""

    def __init__(self, min_terms: int = 3, neighbours: int = 2):
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        # Content words are counted and carried without the function words BM25 keeps ("been", "about", "he"):
        # they say nothing of whether a question stands alone, and cost the reader word pieces.
        self.analyzer = Analyzer(extra_stopwords=(*QUESTION_WORDS, *STOPWORDS_EN_PLUS))
        self.min_terms = min_terms
        self.neighbours = (
            neighbours  # chunks from where the earlier answer was cited, in place of a follow-up's last passages
        )
        self._stopwords = frozenset(self.analyzer.stopwords) | {"also", "else", "other", "same", "then", "there"}

    def run(self, question: str, history: list[Turn]) -> Context | None:
        context = self._resolve(question, history)
        if context is None:
            return None
        by_name = context.about != self._about(history[context.turn])
        lean = context.turn if by_name else self._leans_on(history, context.turn)
        return replace(context, leans_on=lean, asked=history[lean].asked or history[lean].resolved, by_name=by_name)

    def _leans_on(self, history: list[Turn], index: int) -> int:
        """The turn whose question a follow-up of turn `index` is read with: that turn, or where its question says
        nothing of its own ("Why?"), the turn it leaned on itself (as `_about` says what it was about)."""
        turn = history[index]
        if turn.about and not self.analyzer.run([turn.resolved])[0] and 0 <= turn.leans_on < index:
            return turn.leans_on
        return index

    def _resolve(self, question: str, history: list[Turn]) -> Context | None:
        if not history:
            return None
        index = _last_answered(history)
        last = history[index]
        named = [n for turn in history for n in names(turn.question) + names(turn.answer or "", opening=True)]
        asked_names = names(question)
        new = [n for n in asked_names if not any(n in seen or seen in n for seen in named)]
        terms = self.analyzer.run([question])[0]
        match = _ELLIPSIS.match(question)
        clause = _CLAUSE.match(match.group(1)) if match else None
        if clause and _is_name(head := clause.group(1).strip()) and _NAME_POINTER.search(clause.group(2)):
            asked = _substituted(clause.group(2), head, _NAME_POINTER)  # "Is Zelensky up for talks"
            asked = asked[:1].upper() + asked[1:] + "?"
            carried = self.carried(last, asked)
            return Context(with_carried(asked, carried), head, index, "ellipsis", last.source, last.offset, carried)
        if match and asked_names and not clause and len(self.analyzer.run([match.group(1)])[0]) <= 2:
            if asked := _asked_of(last, asked_names[0]):
                return Context(asked, self._about(last), index, "ellipsis", last.source, last.offset)
            carried = self.carried(last, question)  # an earlier question naming no one cannot be asked of the new name
            return Context(
                with_carried(question, carried), self._about(last), index, "ellipsis", last.source, last.offset, carried
            )
        personal = _PERSONAL.search(question) or (not asked_names and _POSSESSIVE.search(question))
        pointing = personal or _POINTING.search(question)
        if (
            not _ENDS_POINTING.search(question)
            and not _IT_ACTS.search(question)
            and (
                (not pointing and (new or len(terms) >= self.min_terms))
                or (new and len(terms) > self.min_terms)
                or (not personal and len(terms) > self.min_terms + 1)
            )
        ):
            return None  # it names its own subject, or says enough on its own ("it", "that" pointing inside it)
        subject = self._subject(history, index) if _PRONOUN.search(question) and not asked_names else None
        asked = _substituted(question, subject) if subject else question
        carried = self.carried(last, asked)
        return Context(
            with_carried(asked, carried),
            subject or self._about(last),
            index,
            "pronoun" if pointing else "short",
            last.source,
            last.offset,
            carried,
        )

    def _about(self, turn: Turn) -> str:
        """What a follow-up of `turn` is about, for a page to show: its question as understood, without the words it
        carried, or where that says nothing of its own ("Why?"), what it was about itself."""
        return turn.about if turn.about and not self.analyzer.run([turn.resolved])[0] else turn.resolved

    def carried(self, turn: Turn, question: str = "") -> str:
        """The words an earlier turn leaves to a follow-up `question`: the content words of the question its user asked
        and of its answer, then those it carried itself (so a chain of follow-ups keeps its subject), none the follow-up
        says already, MAX_CARRIED_WORDS at most."""
        said = {w.lower() for w in _WORD.findall(question)}
        words = [
            w
            for w in _WORD.findall(f"{turn.asked} {turn.answer or ''} {turn.carried}")
            if w.lower() not in self._stopwords and w.lower() not in said
        ]
        return " ".join(list(dict.fromkeys(words))[:MAX_CARRIED_WORDS])

    @staticmethod
    def said(question: str, context: Context, history: list[Turn]) -> list[Said]:
        """What a follow-up's answer must not give again: every earlier answer span, and where it asks for a reply
        ("What did Putin reply?", "How did Russia respond?"), the whole quote of the turn it follows and what goes on
        from it ("He noted, …"), since a reply is another statement."""
        said = [t.said for t in history if t.said]
        quoted = history[context.turn].quoted
        return said + [replace(quoted, goes_on=True)] if quoted and _ASKS_REPLY.search(question) else said

    @staticmethod
    def _subject(history: list[Turn], index: int) -> str | None:
        """Whom a follow-up's "he" or "she" means, from turn `index` back: the name it asked about ("Who is Dmitry Peskov?"
        is about Peskov, whatever the answer names); its answer when it asked for someone ("Who…",
        "Which journalist…") and got a short one (None where that only describes someone), else the first name its
        question gives ("Where did Putin…" is about Putin, not the place).
        A follow-up that names no one ("Why?") is about what its own earlier turn was about, so a chain keeps its subject.
        A name in capitals ("US", "OPEC") is no one, nor is a place (a city, country, US state or continent: "Why won't
        Moscow accept Zelensky…?" is about Zelensky; or a name after "in": "…raise in Kyiv?"), and an earlier question that says
        "he" before naming anyone is passed over ("What would he need to do for Moscow to accept him?" is not about Moscow)."""

        def named(text: str, opening: bool = False) -> list[str]:
            return [
                n
                for n in names(text, opening)
                if not n.isupper() and n not in places() and not re.search(_PLACE + re.escape(n) + r"\b(?!['’])", text)
            ]

        for turn in reversed(history[: index + 1]):
            if (who := _WHO_IS.match(turn.resolved)) and _is_name(who.group(1)):
                return who.group(1)
            if _ASKS_WHO.match(turn.resolved) and turn.answer and len(turn.answer.split()) <= 5:
                return next((n for n in named(turn.answer, opening=True) if not _describes(n, turn.answer)), None)
            if (pronoun := _PRONOUN.search(turn.resolved)) and not named(turn.resolved[: pronoun.start()]):
                continue  # its own "he", named nowhere before it, still stands: the chain's subject is named further back
            if found := named(turn.resolved):
                return found[0]
            if not turn.carried:
                return None  # it stood alone: the chain begins there
        return None


def _essentials(answer) -> dict:
    """What a turn reads of an Answer, as its to_dict() gives it, without copying its passages (a millisecond a turn)."""
    first = answer.citations[:1]
    return {
        "question": answer.question,
        "abstained": answer.abstained,
        "context": answer.context and asdict(answer.context),
        "span": answer.span and asdict(answer.span),
        "citations": [asdict(c) for c in first],
    }


def _shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_carried(question: str, carried: str) -> str:
    """A follow-up as the reader reads it: the words carried from earlier turns in brackets ("Why (Trump ask OPEC)?");
    training questions are made so."""
    return f"{question.rstrip(' ?')} ({carried})?" if carried else question


def without_carried(question: str, carried: str) -> str:
    """A follow-up as `with_carried` made it, less the carried words: "Why (Trump ask OPEC)?" → "Why?"."""
    tail = with_carried("", carried)
    return question[: -len(tail)] + "?" if carried and question.endswith(tail) else question


def _last_answered(history: list[Turn]) -> int:
    """The latest turn that was answered, among the last MAX_HISTORY (else the latest)."""
    recent = range(len(history) - 1, max(-1, len(history) - 1 - MAX_HISTORY), -1)
    return next((i for i in recent if history[i].answer), len(history) - 1)


def _describes(name: str, answer: str) -> bool:
    """Whether a name in an answer only describes the someone it gives ("The Russian leader", "a BBC reporter": no name,
    their words are carried), rather than naming them ("Steve Rosenberg of the BBC", "Macron and Starmer")."""
    last = re.escape(name.split()[-1])
    return re.search(rf"\b{last}\s+(?!(?:of|on|in|at|for|from|and|or|with|to|by|as)\b)[a-z]", answer) is not None


def _asked_of(turn: Turn, name: str) -> str | None:
    """Turn's question asked of another name ("And Putin?"): the first name it gives replaced by the new one, the two
    swapped where it names the new one too ("How soon will Trump meet Putin?" → "How soon will Putin meet Trump?");
    None where it names no one else."""
    if not (old := next((n for n in names(turn.resolved) if name not in n and n not in name), None)):
        return None
    given = next((n for n in names(turn.question) if name in n or n in name), None)  # "Donald Trump" for "Trump"
    if not given:
        return re.sub(rf"\b{re.escape(old)}\b", name, turn.question, count=1)
    return re.sub(
        rf"\b(?:{re.escape(old)}|{re.escape(given)})\b", lambda m: name if m.group() == old else old, turn.question
    )


def _is_name(text: str) -> bool:
    """Whether the text is one name and nothing else ("Dmitry Peskov", not "the talks with Putin")."""
    return names(text, opening=True) == [text]


def _substituted(question: str, subject: str, pronouns: re.Pattern = _PRONOUN) -> str:
    """The first of `pronouns` replaced by the subject ("When did he say it?" → "When did Zelenskyy say it?",
    "What was his reason?" → "What was Zelenskyy's reason?")."""
    match = pronouns.search(question)
    if not match:
        return question
    word, rest = match.group(1).lower(), question[match.end() :]
    possessive = word == "his" or (
        word == "her" and rest[:1].isspace() and rest.strip()[:1].isalpha()
    )  # "her aide", not "ask her?"
    return question[: match.start()] + subject + ("'s" if possessive else "") + rest
