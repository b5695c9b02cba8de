"""The shipped gold set is evidence: every answer and evidence sentence must stand verbatim in its sources."""

from collections import Counter

from rag.evaluation import load_gold
from tests.conftest import ARTICLES, ROOT

GOLD = load_gold(ROOT / "eval" / "data" / "gold.jsonl")


def test_every_answer_and_evidence_is_verbatim_in_its_sources():
    for q in GOLD:
        texts = {source: (ARTICLES / source).read_text(encoding="utf-8") for source in q.sources}
        if not q.answerable:
            assert q.sources == [] and q.evidence == "", q.id
            continue
        assert texts, q.id
        for answer in q.answers:
            assert any(answer in text for text in texts.values()), (q.id, answer)
        for source, text in texts.items():
            assert any(answer in text for answer in q.answers), (q.id, source)
        assert q.evidence in texts[q.sources[0]] and any(a in q.evidence for a in q.answers), q.id


def test_gold_set_has_the_promised_coverage():
    types = Counter(q.type for q in GOLD)
    assert len(GOLD) >= 80
    assert types["unanswerable"] >= 15 and types["paraphrase"] >= 15
    assert types["multi_source"] >= 10 and types["why_how"] >= 8
    assert all(len(q.sources) >= 2 for q in GOLD if q.type == "multi_source")
    per_article = Counter(source for q in GOLD for source in q.sources)
    assert set(per_article) == {p.name for p in ARTICLES.glob("*.txt")}


def test_every_conversation_answer_and_evidence_is_verbatim_in_its_sources_and_the_set_has_its_coverage():
    from rag.evaluation import load_conversations

    conversations = load_conversations(ROOT / "eval" / "data" / "conversations.jsonl")
    turns = [t for _, ts in conversations for t in ts]
    kinds = Counter(t.kind for t in turns)
    assert len(conversations) >= 20 and len(turns) >= 70
    assert kinds["follow_up"] >= 40 and kinds["self_contained"] >= 8 and kinds["unanswerable_follow_up"] >= 8
    assert all(ts[0].kind == "first" and all(t.kind != "first" for t in ts[1:]) for _, ts in conversations)
    for t in turns:
        if t.kind in ("first", "self_contained"):
            assert t.standalone == t.question, t.question
        if not t.answers:
            assert t.kind in ("unanswerable_follow_up", "first") and t.sources == [] and t.evidence == "", t.question
            continue
        texts = {source: (ARTICLES / source).read_text(encoding="utf-8") for source in t.sources}
        assert all(any(answer in text for text in texts.values()) for answer in t.answers), t.question
        assert t.evidence in texts[t.sources[0]] and any(answer in t.evidence for answer in t.answers), t.question
