"""How much page furniture ingestion keeps out of the index, and how much article text it loses with it;
and how often each metadata field is read right.

    python -m eval.studies.boilerplate                      # eval/data/pages (hand-made pages) and the shipped articles
    python -m eval.studies.boilerplate --json eval/reports/boilerplate.json
    python -m eval.studies.boilerplate --gold eval/data/gold.jsonl   # and: furniture among the gold questions' passages and quotes?

A labelled line (eval/data/pages/labels.json; the shipped articles' furniture in eval/data/pages/shipped.json) is
indexed when it stands inside the sentences the chunker makes of the document. Furniture is caught when
it is not indexed; an article sentence is wrongly dropped when it is not. For HTML, what trafilatura's
extraction already left out is counted apart from what rag/boilerplate.py caught.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from eval import ARTICLES, PAGES
from rag.chunking import SentenceChunker
from rag.documents import parse_document

FIELDS = ("title", "outlet", "published", "author", "url")
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')).strip()


def measure(path: Path, labels: dict) -> dict:
    document = parse_document(path.name, path.read_bytes())
    indexed = " ".join(_norm(s.text) for s in SentenceChunker().run(document.text, document.blocks).sentences)
    extracted = _norm(document.text)
    row = {
        "file": path.name,
        "format": path.suffix.lstrip("."),
        "furniture": 0,
        "furniture_extracted": 0,
        "furniture_indexed": [],
        "article": 0,
        "article_extracted": 0,
        "article_dropped": [],
        "fields": {},
    }
    for line in labels.get("furniture", []):
        row["furniture"] += 1
        if _norm(line) in extracted:
            row["furniture_extracted"] += 1
            if _norm(line) in indexed:
                row["furniture_indexed"].append(line)
    for sentence in labels.get("article", []) + labels.get(
        "meta_lines", []
    ):  # a dateline or byline is article text too
        row["article"] += 1
        if _norm(sentence) in extracted:
            row["article_extracted"] += 1
            if _norm(sentence) not in indexed:
                row["article_dropped"].append(sentence)
    for field in FIELDS:
        if field in labels:
            row["fields"][field] = (getattr(document, field) or None) == labels[field]
    return row


def shipped_labels(articles: Path, labelled: dict[str, dict[str, list[str]]]) -> dict[str, dict]:
    """The shipped articles: their labelled furniture lines, and every other line's text as article (a dateline or
    byline too: "meta_lines", read as the date and author and quotable)."""
    labels = {}
    for path in sorted(articles.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        dropped = set(labelled["furniture"].get(path.name, []))
        labels[path.name] = {
            "furniture": [line for line in lines if line in dropped],
            "article": [line for line in lines if line not in dropped],
        }
    return labels


def furniture_in_answers(articles: Path, labels: dict[str, dict], gold: str) -> dict:
    """How many of the passages retrieved for the gold questions (k = 5), and of their quotes, hold a furniture line."""
    import tempfile

    import rag
    from rag.evaluation import load_gold

    furniture = [_norm(line) for label in labels.values() for line in label["furniture"]]
    questions = load_gold(gold)
    with tempfile.TemporaryDirectory() as index_dir:
        qa = rag.build(articles, index_dir=index_dir)
        answers = [qa.ask(q.question, k=5) for q in questions]
    passages = [p for a in answers for p in a.passages]
    holding = lambda text: any(line in _norm(text) for line in furniture)  # noqa: E731
    return {
        "questions": len(questions),
        "passages": len(passages),
        "passages_with_furniture": sum(holding(p.text) for p in passages),
        "quotes": sum(not a.abstained for a in answers),
        "quotes_with_furniture": sum(holding(a.text) for a in answers if not a.abstained),
    }


def summary(rows: list[dict]) -> dict:
    furniture, extracted = sum(r["furniture"] for r in rows), sum(r["furniture_extracted"] for r in rows)
    indexed = sum(len(r["furniture_indexed"]) for r in rows)
    article, article_extracted = sum(r["article"] for r in rows), sum(r["article_extracted"] for r in rows)
    dropped = sum(len(r["article_dropped"]) for r in rows)
    fields = {f: [r["fields"][f] for r in rows if f in r["fields"]] for f in FIELDS}
    return {
        "pages": len(rows),
        "furniture_lines": furniture,
        "furniture_left_by_extraction": extracted,
        "furniture_caught": round(1 - indexed / furniture, 4) if furniture else None,
        "furniture_caught_of_extracted": round(1 - indexed / extracted, 4) if extracted else None,
        "article_sentences": article,
        "article_kept_by_extraction": article_extracted,
        "article_wrongly_dropped": round(dropped / article_extracted, 4) if article_extracted else None,
        "fields_right": {f: f"{sum(v)}/{len(v)}" for f, v in fields.items() if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default=str(PAGES))
    parser.add_argument("--articles", default=str(ARTICLES))
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--gold",
        default=None,
        help="also ask these questions of the shipped articles, k = 5, and look for "
        "furniture in every retrieved passage and quote",
    )
    args = parser.parse_args()
    pages = Path(args.pages)
    made = json.loads((pages / "labels.json").read_text(encoding="utf-8"))
    shipped = shipped_labels(Path(args.articles), json.loads((pages / "shipped.json").read_text(encoding="utf-8")))
    report = {}
    for name, folder, labels in (("made pages", pages, made), ("shipped articles", Path(args.articles), shipped)):
        rows = [measure(folder / file, labels[file]) for file in sorted(labels)]
        report[name] = {"summary": summary(rows), "pages": rows}
        print(f"{name}: {json.dumps(report[name]['summary'])}")
        for row in rows:
            for line in row["furniture_indexed"]:
                print(f"  furniture indexed, {row['file']}: {line[:90]}")
            for line in row["article_dropped"]:
                print(f"  article dropped, {row['file']}: {line[:90]}")
            for field, right in row["fields"].items():
                if not right:
                    print(f"  {field} wrong, {row['file']}")
    for fmt in ("html", "txt", "md"):
        rows = [r for r in report["made pages"]["pages"] if r["format"] == fmt]
        if rows:
            print(f"  made {fmt}: {json.dumps(summary(rows))}")
    if args.gold:
        report["gold"] = furniture_in_answers(Path(args.articles), shipped, args.gold)
        print(f"gold questions: {json.dumps(report['gold'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
