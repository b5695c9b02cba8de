"""Text → the lines that are page furniture, not article: calls to subscribe, sign up or comment, share
bars, comment forms, "You may also like" lists of other stories' headlines, footers.

Copied, extracted or converted pages all carry them ("Sign Up For Instant Breaking News Alerts", "LEAVE A
REPLY", "Please enter your comment!"); once chunked they are retrieved and even quoted. A line is furniture
when it is short and says one of these things; an article sentence that only mentions them ("Shares fell
4%.", "The minister declined to comment.") is longer or says it otherwise, and stays. The lines that follow
a "You may also like" heading and read like headlines (no closing full stop) are furniture too.
Offsets are character ranges of the text, so the document itself is never changed.
"""

from __future__ import annotations

import re

from .metadata import BYLINE, DATELINE, LINE

# Furniture in a line of at most STRONG_WORDS words, whatever else it says: phrases no article sentence uses.
_STRONG = re.compile(
    r"""
    \bprivacy\s+(policy|notice|settings)\b | \bterms\s+(of\s+(use|service)|and\s+conditions)\s*$ | \bplease\s+enter\s+your\s+(comment|name|e-?mail)\b
  | \byou\s+have\s+entered\s+an\s+incorrect\b | \byour\s+e-?mail\s+address\s+will\s+not\s+be\s+published\b | \brequired\s+fields\s+are\s+marked\b
  | \bsave\s+my\s+name,?\s+e-?mail\b | \bnotify\s+me\s+of\s+(new|follow)\b | \bcomments\s+are\s+closed\b | \ball\s+rights\s+reserved\b
  | \bbreaking\s+news\s+(alerts?|updates?)\b | \breceive\s+(e-?mails|our\s+newsletters?)\s+about\b | \bsupport\s+(our|independent)\s+journalism\b
  | ^\s*(leave|post|add|write)\s+a\s+(reply|comment)\b | ^\W*(sign[\s-]?up|subscribe)\s+(for|to|now|here|today)\b | ^\W*(©|\(c\)|copyright\s+(©|\(c\)|\d{4}))
""",
    re.IGNORECASE | re.VERBOSE,
)
# Furniture in a short line (at most AMBIGUOUS_WORDS words, or one that does not end a sentence): phrases an
# article sentence may also hold ("Netflix said its subscription price would rise from today.").
_AMBIGUOUS = re.compile(
    r"""
    \b(sign[\s-]?up|subscribe|subscription|newsletters?|unsubscribe)\b.*\b(free|news|alerts?|updates?|newsletters?|emails?|briefing|today|now|here|inbox)\b
  | \breceive\s+(e-?mails|updates|alerts)\b | \bcookie(s|\s+policy|\s+settings)?\b.*\b(accept|consent|policy|settings)\b
  | ^\s*(no|\d+|view|show|read)\s+comments?\b | \bjoin\s+the\s+(conversation|discussion)\b | \bcomments?\s+\(\d+\)
  | ^\W*(you\s+(may|might)\s+also\s+(like|enjoy)|related\s+(articles?|stories|posts|coverage|news|topics)|more\s+(stories|from|news|on\s+this\s+story)|most\s+(read|popular|viewed|shared)|also\s+read|recommended\s+(for\s+you|stories|reading)|top\s+stories|trending(\s+now)?|don['’]t\s+miss|editor['’]s\s+picks?)\b
  | ^\W*share\s+(this|on|via|the\s+article|article|story)\b | \b(follow|like)\s+us\s+on\b | ^\s*(skip\s+to\s+(main\s+)?content)\b
  | \bclick\s+here\s+to\b | \bread\s+(more|next|full\s+story)\s*[:»›>…] | \bdownload\s+(our|the)\s+app\b
  | \bbe\s+the\s+first\s+to\s+comment\b | \blog\s*in\s+to\s+((leave|post|add)\s+a\s+)?comment\b | ^\W*(e-?mail|print|save)\s+this\s+(article|story|page)\b
  | ^\W*continue\s+reading\b | ^\W*skip\s+(advert|ad|advertisement)\b | ^\W*get\s+(our|the)\b.*\bnewsletter\b | ^\W*(related|tags?|topics?|filed\s+under)\s*:
  | ^\W*(listen\s+to\s+this\s+article|\d+\s+min(ute)?s?\s+read)\b | ^\W*(photograph|photo|image|picture)\s*(:|credit)
""",
    re.IGNORECASE | re.VERBOSE,
)
# Furniture only as (nearly) the whole line: a button, a label, a menu entry.
_WEAK = re.compile(
    r"""^\W*(
    advertisement|advertising|sponsored(\s+content)?|ad|share|shares|tweet|facebook|twitter|x|whatsapp|linkedin|reddit|pinterest|telegram|e-?mail|print|copy\s+link|link\s+copied
  | instagram|youtube|tiktok|threads|bluesky|rss|save|saved|bookmark|subscribe|newsletters?|terms|privacy|cookies|accessibility(\s+statement)?|sitemap|follow(\s+us)?|tags|topics|related\s+topics
  | comments?|reply|replies|menu|home|search|log\s*in|sign\s+in|register|close|next|previous|back\s+to\s+top|top|contact(\s+us)?|about(\s+us)?|careers|sections|more|view\s+all
  | read\s+more|see\s+more|load\s+more|show\s+more|continue\s+reading|listen(\s+to\s+this\s+article)?|watch|video|photos?|gallery|image|getty\s+images|ap|reuters|afp
  | accept(\s+all)?(\s+cookies)?|reject(\s+all)?|manage\s+(cookies|preferences|settings)|ok|got\s+it
)\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Headings that open a list of other stories: the headline-like lines after them are furniture.
_LIST_HEADING = re.compile(
    r"^\W*(you\s+(may|might)\s+also\s+(like|enjoy)|may\s+you\s+also\s+like(\s+it)?|related(\s+(articles?|stories|posts|coverage|news))?|more\s+(stories|from\s+.*|news|on\s+this\s+story)|most\s+(read|popular|viewed|shared)|also\s+read|recommended(\s+for\s+you)?|top\s+stories|trending(\s+now)?|read\s+next|latest(\s+news)?|editor['’]s\s+picks?)\W*$",
    re.IGNORECASE,
)
_LINK_ONLY = re.compile(r"^\s*(?:[-*•]\s*)?\[[^\]]+\]\([^)]*\)\s*$")
_WORDS = re.compile(r"\S+")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")  # a whole sentence, not a label or a heading
STRONG_WORDS = 30
AMBIGUOUS_WORDS = 12
LIST_ITEM_WORDS = 20


class BoilerplateFinder:
    """The character ranges of a text's furniture lines, in order."""

    def __init__(
        self,
        strong_words: int = STRONG_WORDS,
        ambiguous_words: int = AMBIGUOUS_WORDS,
        list_item_words: int = LIST_ITEM_WORDS,
    ):
        self.strong_words = strong_words
        self.ambiguous_words = ambiguous_words
        self.list_item_words = list_item_words

    def run(self, text: str) -> list[tuple[int, int]]:
        """Furniture lines: those that say it (_STRONG, _AMBIGUOUS, _WEAK), list headings and the headlines
        listed under them, runs of three or more menu labels, and, after the article's first sentence, runs
        of two or more lines that read like other stories' headlines."""
        found = [
            (line.span(), line.group(), len(_WORDS.findall(line.group())))
            for line in LINE.finditer(text)
            if line.group().strip()
        ]
        headings = [bool(_LIST_HEADING.match(line)) for _, line, _ in found]
        marked = [h or self._furniture(line, words) for h, (_, line, words) in zip(headings, found)]
        # Before the first sentence stand the headline, dateline and byline, never a list of other stories.
        opening = next(
            (
                i
                for i, (_, line, words) in enumerate(found)
                if not marked[i] and _ENDS_SENTENCE.search(line) and words >= 8
            ),
            len(found),
        )
        free = [not m and not (DATELINE.match(line) or BYLINE.match(line)) for m, (_, line, _) in zip(marked, found)]
        labels = _runs([f and _is_label(line, words) for f, (_, line, words) in zip(free, found)])
        goes_on = [
            i + 1 < len(found) and found[i + 1][1].lstrip()[:1].islower() for i in range(len(found))
        ]  # a wrapped line
        listed = _runs(
            [
                f and i > opening and not goes_on[i] and _is_listed(line, words)
                for i, (f, (_, line, words)) in enumerate(zip(free, found))
            ]
        )
        furniture, in_list = [], False
        for i, (span, line, words) in enumerate(found):
            if marked[i] or labels[i] >= 3 or listed[i] >= 2:
                furniture.append(span)
                in_list = in_list or headings[i]
            elif in_list and _headline_like(line, words, self.list_item_words):
                furniture.append(span)  # another story's headline, listed
            else:
                in_list = False
        return furniture

    def _furniture(self, line: str, words: int) -> bool:
        if _WEAK.match(line) or (words <= self.strong_words and _STRONG.search(line)):
            return True
        return (
            (words <= self.ambiguous_words or not _ENDS_SENTENCE.search(line))
            and words <= self.strong_words
            and bool(_AMBIGUOUS.search(line))
        )


def _headline_like(line: str, words: int, most: int) -> bool:
    """Another story's headline in a list: 3 to `most` words, mostly capitalised, no closing full stop
    (so a section heading such as "FAQs" or an article sentence ends the list)."""
    if not 3 <= words <= most or _ENDS_SENTENCE.search(line):
        return False
    lettered = [w for w in _WORDS.findall(line) if w[0].isalpha()]
    return bool(lettered) and sum(w[0].isupper() for w in lettered) >= 0.5 * len(lettered)


def _is_label(line: str, words: int) -> bool:
    """A menu entry or tag: one to three words, no figures (a table's row is none), no sentence punctuation."""
    return words <= 3 and not re.search(r"\d", line) and not re.search(r"[.!?,;:]\s*$", line.strip())


def _is_listed(line: str, words: int) -> bool:
    """A line that reads like another story's headline (3 to LIST_ITEM_WORDS words, opening with a capital or
    a figure, no full stop; a question too), or a bare Markdown link."""
    return bool(_LINK_ONLY.match(line)) or (
        3 <= words <= LIST_ITEM_WORDS
        and line.lstrip()[:1].isupper()
        and not re.search(r"[.!…;:,][\"'”’)\]]*\s*$", line)
    )


def _runs(kind: list[bool]) -> list[int]:
    """For each line of a kind, the length of the run of consecutive lines of that kind it stands in (else 0)."""
    lengths, i = [0] * len(kind), 0
    while i < len(kind):
        if not kind[i]:
            i += 1
            continue
        j = i
        while j < len(kind) and kind[j]:
            j += 1
        lengths[i:j] = [j - i] * (j - i)
        i = j
    return lengths
