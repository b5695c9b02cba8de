"""The shipped gold set is evidence: every answer and evidence sentence must stand verbatim in its sources."""

from collections import Counter

from rag.evaluation import load_gold
from tests.conftest import ARTICLES, ROOT

GOLD = load_gold(ROOT / "eval" / "gold.jsonl")


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
