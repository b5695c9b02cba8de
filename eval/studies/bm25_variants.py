"""Which text analysis should BM25 use? Stemming and stopword removal on and off, side by side.

Measures BM25-alone retrieval (gold source in the top 1 / 5, a gold answer inside a top-5 passage)
on a gold file and its corpus for the four combinations, in one run:

    python -m eval.studies.bm25_variants --gold eval/data/gold.jsonl --index-dir index/eval/<corpus index> [--sample N]
"""

from __future__ import annotations

import argparse

import bm25s

from rag.evaluation import contains_answer, load_gold, select
from rag.lexical import Analyzer
from rag.store import IndexStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", required=True)
    parser.add_argument("--index-dir", required=True, help="an index built from the gold file's corpus")
    parser.add_argument("--sample", type=int, default=None)
    args = parser.parse_args()
    questions = [q for q in select(load_gold(args.gold), sample=args.sample) if q.answerable]
    store = IndexStore.open(args.index_dir)
    ids = [s.offset + row for s in store.commit.segments for row in range(s.chunks)]
    chunks = [c for first in range(0, len(ids), 500) for c in store.chunks(ids[first : first + 500])]
    print(f"{len(questions)} answerable questions, {len(chunks)} chunks")
    print(f"{'stem':<6}{'stopwords':<11}{'recall@1':>9}{'recall@5':>9}{'answer@5':>9}")
    for stem in (True, False):
        for stopwords in (True, False):
            analyzer = Analyzer(stem=stem, stopwords=stopwords)
            index = bm25s.BM25()
            index.index(analyzer.run([c.text for c in chunks], as_ids=True), show_progress=False)
            at1 = at5 = answer5 = 0
            for q in questions:
                rows, scores = index.retrieve([analyzer.run([q.question])[0]], k=5, show_progress=False)
                passages = [chunks[r] for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
                sources = [p.doc_id for p in passages]
                at1 += bool(sources[:1]) and sources[0] in q.sources
                at5 += any(s in q.sources for s in sources)
                answer5 += any(contains_answer(p.text, q.answers) for p in passages)
            n = len(questions)
            print(f"{str(stem):<6}{str(stopwords):<11}{at1 / n:>9.3f}{at5 / n:>9.3f}{answer5 / n:>9.3f}")


if __name__ == "__main__":
    main()
