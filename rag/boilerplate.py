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

from .metadata import BYLINE, DATELINE

# Furniture whatever else the line says, when the line is at most STRONG_WORDS words long.
_STRONG = re.compile(r"""
    \b(sign[\s-]?up|subscribe|subscription|newsletters?|unsubscribe)\b.*\b(free|news|alerts?|updates?|newsletters?|emails?|briefing|today|now|here|inbox)\b
  | ^\W*(sign[\s-]?up|subscribe)\s+(for|to|now|here|today)\b
  | \breceive\s+(e-?mails|our\s+newsletter|updates|alerts)\b
  | \bprivacy\s+(policy|notice|settings)\b | \bterms\s+(of\s+(use|service)|and\s+conditions)\b | \bcookie(s|\s+policy|\s+settings)?\b.*\b(accept|use|consent|policy|settings)\b
  | ^\s*(leave|post|add|write)\s+a\s+(reply|comment)\b | \bplease\s+enter\s+your\s+(comment|name|e-?mail)\b
  | \byou\s+have\s+entered\s+an\s+incorrect\b | \byour\s+e-?mail\s+address\s+will\s+not\s+be\s+published\b | \brequired\s+fields\s+are\s+marked\b
  | ^\s*(no|\d+|view|show|read)\s+comments?\b | \bjoin\s+the\s+(conversation|discussion)\b | \bcomments?\s+(are\s+closed|\(\d+\))
  | \bsave\s+my\s+name,?\s+e-?mail\b | \bnotify\s+me\s+of\b
  | ^\W*(you\s+(may|might)\s+also\s+(like|enjoy)|related\s+(articles?|stories|posts|coverage|news|topics)|more\s+(stories|from|news|on\s+this\s+story)|most\s+(read|popular|viewed|shared)|also\s+read|recommended\s+(for\s+you|stories|reading)|top\s+stories|trending(\s+now)?|don['’]t\s+miss|editor['’]s\s+picks?)\b
  | \ball\s+rights\s+reserved\b | ^\s*(©|\(c\)|copyright\b)
  | ^\W*share\s+(this|on|via|the\s+article|article|story)\b | \b(follow|like)\s+us\s+on\b | ^\s*(skip\s+to\s+(main\s+)?content)\b
  | \bclick\s+here\s+to\b | \bsupport\s+(our|independent)\s+journalism\b | \bread\s+(more|next|full\s+story)\s*[:»›>…]
  | \bbreaking\s+news\s+(alerts?|updates?)\b | \bdownload\s+(our|the)\s+app\b
  | \bbe\s+the\s+first\s+to\s+comment\b | \blog\s*in\s+to\s+((leave|post|add)\s+a\s+)?comment\b | ^\W*(e-?mail|print|save)\s+this\s+(article|story|page)\b
  | ^\W*continue\s+reading\b | ^\W*skip\s+(advert|ad|advertisement)\b | ^\W*get\s+(our|the)\b.*\bnewsletter\b | ^\W*(related|tags?|topics?|filed\s+under)\s*:
  | ^\W*(listen\s+to\s+this\s+article|\d+\s+min(ute)?s?\s+read)\b | ^\W*(photograph|photo|image|picture)\s*(:|credit)
""", re.IGNORECASE | re.VERBOSE)
# Furniture only as (nearly) the whole line: a button, a label, a menu entry.
_WEAK = re.compile(r"""^\W*(
    advertisement|advertising|sponsored(\s+content)?|ad|share|shares|tweet|facebook|twitter|x|whatsapp|linkedin|reddit|pinterest|telegram|e-?mail|print|copy\s+link|link\s+copied
  | instagram|youtube|tiktok|threads|bluesky|rss|save|saved|bookmark|subscribe|newsletters?|terms|privacy|cookies|accessibility(\s+statement)?|sitemap|follow(\s+us)?|tags|topics|related\s+topics
  | comments?|reply|replies|menu|home|search|log\s*in|sign\s+in|register|close|next|previous|back\s+to\s+top|top|contact(\s+us)?|about(\s+us)?|careers|sections|more|view\s+all
  | read\s+more|see\s+more|load\s+more|show\s+more|continue\s+reading|listen(\s+to\s+this\s+article)?|watch|video|photos?|gallery|image|getty\s+images|ap|reuters|afp
  | accept(\s+all)?(\s+cookies)?|reject(\s+all)?|manage\s+(cookies|preferences|settings)|ok|got\s+it
)\W*$""", re.IGNORECASE | re.VERBOSE)
# Headings that open a list of other stories: the headline-like lines after them are furniture.
_LIST_HEADING = re.compile(r"^\W*(you\s+(may|might)\s+also\s+(like|enjoy)|may\s+you\s+also\s+like(\s+it)?|related(\s+(articles?|stories|posts|coverage|news))?|more\s+(stories|from\s+.*|news|on\s+this\s+story)|most\s+(read|popular|viewed|shared)|also\s+read|recommended(\s+for\s+you)?|top\s+stories|trending(\s+now)?|read\s+next|latest(\s+news)?|editor['’]s\s+picks?)\W*$", re.IGNORECASE)
_LINE = re.compile(r"[^\n]+")
_LINK_ONLY = re.compile(r"^\s*(?:[-*•]\s*)?\[[^\]]+\]\([^)]*\)\s*$")
_WORDS = re.compile(r"\S+")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
STRONG_WORDS = 30
LIST_ITEM_WORDS = 20


class BoilerplateFinder:
    """The character ranges of a text's furniture lines, in order."""

    def __init__(self, strong_words: int = STRONG_WORDS, list_item_words: int = LIST_ITEM_WORDS):
        self.strong_words = strong_words
        self.list_item_words = list_item_words

    def run(self, text: str) -> list[tuple[int, int]]:
        lines = [line.group() for line in _LINE.finditer(text) if line.group().strip()]
        spans = [line.span() for line in _LINE.finditer(text) if line.group().strip()]
        headings = [bool(_LIST_HEADING.match(line)) for line in lines]
        marked = [h or self._furniture(line, len(_WORDS.findall(line))) for h, line in zip(headings, lines)]
        # Before the first sentence stand the headline, dateline and byline, never a list of other stories.
        opening = next((i for i, line in enumerate(lines) if not marked[i] and _ENDS_SENTENCE.search(line)
                        and len(_WORDS.findall(line)) >= 8), len(lines))
        marked_or_meta = [m or bool(DATELINE.match(line) or BYLINE.match(line)) for m, line in zip(marked, lines)]
        label = [not m and _is_label(line) for m, line in zip(marked_or_meta, lines)]
        listed = [not m and i > opening and _is_listed(line) for i, (m, line) in enumerate(zip(marked_or_meta, lines))]
        found, in_list = [], False
        for i, line in enumerate(lines):
            if marked[i] or _in_run(label, i, 3) or _in_run(listed, i, 2):
                found.append(spans[i])
                in_list = in_list or headings[i]
            elif in_list and _headline_like(line, len(_WORDS.findall(line)), self.list_item_words):
                found.append(spans[i])  # another story's headline, listed
            else:
                in_list = False
        return found

    def _furniture(self, line: str, words: int) -> bool:
        return bool(_WEAK.match(line)) or (words <= self.strong_words and bool(_STRONG.search(line)))


def _headline_like(line: str, words: int, most: int) -> bool:
    """Another story's headline in a list: 3 to `most` words, mostly capitalised, no closing full stop
    (so a section heading such as "FAQs" or an article sentence ends the list)."""
    if not 3 <= words <= most or _ENDS_SENTENCE.search(line):
        return False
    lettered = [w for w in _WORDS.findall(line) if w[0].isalpha()]
    return bool(lettered) and sum(w[0].isupper() for w in lettered) >= 0.5 * len(lettered)


def _is_label(line: str) -> bool:
    """A menu entry or tag: one to three words, no sentence punctuation."""
    return len(_WORDS.findall(line)) <= 3 and not re.search(r"[.!?,;:]\s*$", line.strip())


def _is_listed(line: str) -> bool:
    """A line that reads like another story's headline (3 to LIST_ITEM_WORDS words, no full stop; a question too),
    or a bare Markdown link."""
    return bool(_LINK_ONLY.match(line)) or (3 <= len(_WORDS.findall(line)) <= LIST_ITEM_WORDS
                                            and not re.search(r"[.!…;:,][\"'”’)\]]*\s*$", line))


def _in_run(kind: list[bool], i: int, least: int) -> bool:
    """Whether line i stands in a run of at least `least` consecutive lines of a kind (a menu, a list of headlines)."""
    if not kind[i]:
        return False
    first = last = i
    while first > 0 and kind[first - 1]:
        first -= 1
    while last + 1 < len(kind) and kind[last + 1]:
        last += 1
    return last - first + 1 >= least
