"""What each state of an answer (rag/confidence.py's STATES) is called where people read it, so that `rag ask`,
`rag chat` and the web chat say the same words: a sure answer needs none, a tentative one and an abstention say so."""

from __future__ import annotations

from .answers import NOT_ANSWERED

TENTATIVE = "The articles may not answer this. Closest quote:"
STATE_WORDS = {"answered": "", "tentative": TENTATIVE, "abstained": NOT_ANSWERED}
