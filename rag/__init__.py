"""Verbatim: answers questions about a folder of articles with cited, verbatim quotes.

import rag
qa = rag.build("data/articles", index_dir="index")   # build or update, then open
qa = rag.load("index")                                # open an existing index
answer = qa.ask("When did Russia invade Ukraine?", k=5)
rag.set_details("data/articles", "a.txt", index_dir="index", outlet="The Times")  # what the text does not state
"""

from .answers import NOT_ANSWERED, Answer, Citation, Span
from .conversation import Context, History
from .errors import (
    CorpusError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexNotFoundError,
    InvalidQuestionError,
    ModelNotFoundError,
    RagError,
    UnreadableFileError,
)
from .library import set_details
from .metadata import Metadata
from .pipeline import QA, build, load
from .retrieval import RETRIEVERS, Passage

__all__ = [
    "NOT_ANSWERED",
    "QA",
    "RETRIEVERS",
    "Answer",
    "Citation",
    "Context",
    "CorpusError",
    "IndexCorruptError",
    "History",
    "IndexIncompatibleError",
    "IndexNotFoundError",
    "InvalidQuestionError",
    "Metadata",
    "ModelNotFoundError",
    "Passage",
    "RagError",
    "Span",
    "UnreadableFileError",
    "build",
    "load",
    "set_details",
]
