"""The JSON API's requests and replies as Pydantic models: they validate what comes in and make the OpenAPI
document. Replies mirror `Answer.to_dict()` and the store's records field for field (a test holds them to it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..pipeline import MAX_K
from ..retrieval import DEFAULT_RETRIEVER


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filters(Strict):
    after: str | None = Field(None, description="published on or after this day (YYYY-MM-DD)", examples=["2024-12-01"])
    before: str | None = Field(None, description="published before this day (YYYY-MM-DD)")
    outlet: list[str] | None = Field(None, description="only these outlets", examples=[["The Independent"]])


class Meta(Strict):
    title: str | None = None
    outlet: str | None = None
    published: str | None = Field(None, description="YYYY-MM-DD")
    author: str | None = None
    url: str | None = None


class Span(Strict):
    text: str
    start: int
    end: int


class Citation(Meta):
    source: str = Field(description="the article's file, relative to the corpus folder")
    start: int = Field(description="character offset of the quote in the article's text")
    end: int
    line: int = Field(description="1-based line of the quote's start")
    quote: str = Field(description="the sentence(s) quoted verbatim")
    page: int | None = Field(None, description="1-based page, in a PDF")
    span: Span | None = None
    agrees: bool = Field(True, description="false: another article's different answer")


class Passage(Meta):
    source: str
    start: int
    end: int
    text: str
    score: float = Field(description="the retriever's score")
    chunk_id: int
    answer: str | None = None
    probability: float | None = None


class Context(Strict):
    """How a follow-up was understood."""

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


class Answer(Strict):
    question: str
    text: str = Field(description="the quote, verbatim; when abstained, the words that say the articles do not answer")
    state: Literal["answered", "tentative", "abstained"]
    confidence: float = Field(description="calibrated probability that the quote holds the answer")
    citations: list[Citation]
    passages: list[Passage]
    span: Span | None
    context: Context | None
    abstained: bool


class AskReply(Answer):
    filtered: str | None = Field(None, description="what the filters leave: “Filtered to 2 of 5 articles: …”")
    missing_shards: list[int] = Field(
        default_factory=list, description="shards that were down, when partial results were asked for"
    )


class Ask(Strict):
    question: str = Field(examples=["Who is the Kremlin spokesperson?"])
    k: int = Field(5, ge=1, le=MAX_K, description="passages to retrieve")
    retriever: Literal["hybrid", "dense", "bm25"] = DEFAULT_RETRIEVER
    history: list[dict] = Field(
        default_factory=list,
        description="the conversation's earlier answers as this endpoint returned them, oldest first",
    )
    filters: Filters | None = None
    abstain: bool = Field(True, description="false: quote the most probable answer however unlikely")
    partial: bool = Field(False, description="answer from the shards that are up when some are down")


class Retrieve(Strict):
    question: str
    k: int = Field(5, ge=1, le=MAX_K)
    retriever: Literal["hybrid", "dense", "bm25"] = DEFAULT_RETRIEVER
    filters: Filters | None = None
    partial: bool = False


class RetrieveReply(Strict):
    passages: list[Passage]
    missing_shards: list[int] = Field(default_factory=list)


class ArticleInfo(Meta):
    id: str
    sha256: str
    n_chunks: int


class Article(ArticleInfo):
    text: str
    pages: list[int] | None = Field(None, description="a PDF's page starts in `text`")


class Added(Strict):
    added: list[str]
    rejected: list[dict[str, str]] = Field(description="[{name, reason}] for each file refused")


class Removed(Strict):
    removed: str


class Health(Strict):
    status: Literal["ok"]
    model: str
    reader: str
    reader_precision: Literal["fp32", "int8"] = Field(description="what the reader runs in here")
    articles: int
    chunks: int
    generation: list[int] = Field(description="each shard's index commit generation (one: unsharded)")
    shards: int


class Error(Strict):
    error: str = Field(description="what went wrong and what to do, in plain words")
