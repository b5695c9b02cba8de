"""The held-out evaluation sets of ../shared/qa-train, as corpora `rag eval` reads: whole articles, stories and
dialogs that the reader never trained on and its confidence was never fit on (models/training.py split_of).

    python -m eval.studies.held_out            # → eval/cache/held-out/{squad2,coqa-cnn,doqa}/
    rag eval --gold eval/cache/held-out/squad2/gold.jsonl --corpus eval/cache/held-out/squad2/articles --retriever hybrid
    rag eval --conversations eval/cache/held-out/coqa-cnn/conversations.jsonl --corpus eval/cache/held-out/coqa-cnn/articles

- squad2: SQuAD 2.0's unanswerable questions, written to look answerable, with the answerable SQuAD 1.1 questions of
  the same articles, a seeded sample of each.
- coqa-cnn: CoQA's conversations about CNN stories, every turn in order. A turn whose answer is a span is scored (the
  first turn as "first", the others as "follow_up"), "unknown" is an unanswerable follow-up, and a yes / no /
  free-form answer is asked for the conversation's sake but not scored ("unscored").
- doqa: DoQA's dialogs over cooking answers; an answer (often several sentences) counts as found where the quote
  holds any of its sentences.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
from pathlib import Path

from eval import CACHE
from rag import training
from rag.chunking import SentenceSplitter
from rag.pipeline import MAX_QUESTION_CHARS

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def squad2(questions: list[training.Question], out: Path, n: int, seed: int) -> int:
    """The held-out SQuAD 2.0 unanswerable questions and their articles' answerable ones, `n` of each, as SQuAD JSON
    imported by `rag import-squad`'s importer."""
    from rag.squad import import_squad

    unanswerable = [q for q in questions if q.evaluated and q.group == "squad2-unanswerable"]
    titles = {q.title for q in unanswerable}
    answerable = [
        q
        for q in questions
        if q.evaluated and q.group == "replay" and q.answerable and q.title in titles and q.source.startswith("squad")
    ]
    rng = random.Random(seed)
    chosen = rng.sample(unanswerable, min(n, len(unanswerable))) + rng.sample(answerable, min(n, len(answerable)))
    articles: dict[str, dict[str, list]] = {}
    for q in [q for q in questions if q.evaluated and q.title in titles and q.source.startswith("squad")]:
        articles.setdefault(q.title, {}).setdefault(q.context, [])  # every paragraph of the chosen articles
    for number, q in enumerate(chosen):
        at = q.answer_starts[0] if q.answerable else -1
        articles[q.title][q.context].append(
            {
                "id": f"{q.group}-{number}",
                "question": q.question,
                "is_impossible": not q.answerable,
                "answers": [{"text": q.answer_text, "answer_start": at}] if q.answerable else [],
            }
        )
    data = {
        "version": "v2.0",
        "data": [
            {"title": title, "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}
            for title, paragraphs in sorted(articles.items())
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "squad2.json").write_text(json.dumps(data))
    return import_squad(out / "squad2.json", out)[3]


def conversations(
    path: Path, out: Path, source: str, title_prefix: str, n: int, seed: int, sentences_count: bool
) -> int:
    """The held-out conversations of a CoQA or DoQA file whose title starts with `title_prefix`, `n` of them, as a
    corpus (a story or dialog an article) and a conversations JSONL file for `rag eval --conversations`."""
    data = json.load(gzip.open(path, "rt"))["data"]
    by_title = len(data) >= training.HELD_OUT  # as load_questions splits
    held = [
        a
        for a in data
        if a["title"].startswith(title_prefix)
        and all(training.split_of(a["title"] if by_title else p["context"]) == "evaluation" for p in a["paragraphs"])
        and all(len(qa["question"]) <= MAX_QUESTION_CHARS for p in a["paragraphs"] for qa in p["qas"])
    ]  # the product asks them
    held = random.Random(seed).sample(held, min(n, len(held)))
    splitter = SentenceSplitter(max_tokens=10_000)
    shutil.rmtree(out / "articles", ignore_errors=True)  # a rerun with other counts leaves no story behind
    (out / "articles").mkdir(parents=True)
    written = 0
    with (out / "conversations.jsonl").open("w", encoding="utf-8") as lines:
        for number, article in enumerate(held):
            name = f"{number:03d}_{_UNSAFE.sub('_', article['title'].split('/')[-1])[:50]}.txt"
            context = article["paragraphs"][0]["context"]
            (out / "articles" / name).write_text(context.strip() + "\n", encoding="utf-8")
            sentences = splitter.run(context)
            turns = [
                _turn(qa, i, name, context, sentences, sentences_count)
                for i, qa in enumerate(article["paragraphs"][0]["qas"])
            ]
            lines.write(json.dumps({"id": f"{source}-{number}", "turns": turns}, ensure_ascii=False) + "\n")
            written += len(turns)
    return written


def _turn(qa: dict, number: int, name: str, context: str, sentences, sentences_count: bool) -> dict:
    """One turn in `rag eval --conversations` form; its evidence is the story's sentences holding the answer."""
    question = qa["question"].strip()
    if qa.get("kind") in ("yes", "no", "free"):
        return {"question": question, "standalone": question, "answers": [], "sources": [], "kind": "unscored"}
    if qa.get("is_impossible") or not qa["answers"]:
        return {
            "question": question,
            "standalone": question,
            "answers": [],
            "sources": [],
            "kind": "first" if number == 0 else "unanswerable_follow_up",
        }
    answer = qa["answers"][0]
    start, end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
    holding = [s for s in sentences if s.start < end and s.end > start]
    answers = [answer["text"].strip()]
    if sentences_count:  # a long answer: any of its sentences quoted finds it
        answers += [s.text.strip() for s in holding if len(s.text.split()) >= 4 and s.text.strip() not in answers]
    return {
        "question": question,
        "standalone": question,
        "answers": answers,
        "sources": [name],
        "kind": "first" if number == 0 else "follow_up",
        "evidence": context[holding[0].start : holding[-1].end].strip(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(CACHE / "held-out"), help="where to write (default: %(default)s)")
    parser.add_argument("--data", default=str(training.SHARED), help="the qa-train folder (default: %(default)s)")
    parser.add_argument(
        "--squad2", type=int, default=400, help="unanswerable and answerable questions, each (default: %(default)s)"
    )
    parser.add_argument("--coqa", type=int, default=30, help="CNN conversations (default: %(default)s)")
    parser.add_argument("--doqa", type=int, default=30, help="DoQA dialogs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out, data = Path(args.out), Path(args.data)
    print("squad2:", squad2(training.load_questions(data), out / "squad2", args.squad2, args.seed), "questions")
    print(
        "coqa-cnn:",
        conversations(data / "coqa-train.json.gz", out / "coqa-cnn", "coqa-cnn", "cnn/", args.coqa, args.seed, False),
        "turns",
    )
    print(
        "doqa:",
        conversations(data / "doqa-train.json.gz", out / "doqa", "doqa", "", args.doqa, args.seed, True),
        "turns",
    )


if __name__ == "__main__":
    main()
