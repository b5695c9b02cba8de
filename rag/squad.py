"""SQuAD JSON → a corpus of article files plus a gold question file, so the same evaluation runs on it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .chunking import SentenceSplitter
from .errors import RagError

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NOTICE = (
    "Derived from SQuAD (Rajpurkar et al., 2016), licensed CC BY-SA 4.0: "
    "https://creativecommons.org/licenses/by-sa/4.0/\n"
)


def _question_type(question: str, impossible: bool) -> str:
    """SQuAD has no types; group its questions by what they ask for."""
    if impossible:
        return "unanswerable"
    q = question.lower()
    for prefix, name in (("how many", "how_many"), ("how much", "how_many"), ("why", "why_how"), ("how", "why_how")):
        if re.search(rf"\b{prefix}\b", q):
            return name
    for word in ("who", "whom", "whose", "when", "where", "which", "what"):
        if re.search(rf"\b{word}\b", q):
            return {"whom": "who", "whose": "who"}.get(word, word)
    return "other"


def import_squad(squad_file: str | Path, out_dir: str | Path) -> tuple[Path, Path, int, int]:
    """Write OUT/articles/NNN_title.txt (title, blank line, paragraphs) and OUT/gold.jsonl.

    Returns (articles folder, gold file, articles written, questions written).
    """
    try:
        data = json.loads(Path(squad_file).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RagError(f"{squad_file} is not a SQuAD JSON file ({exc})") from exc
    articles_dir, gold_file = Path(out_dir) / "articles", Path(out_dir) / "gold.jsonl"
    articles_dir.mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "NOTICE").write_text(_NOTICE)
    splitter = SentenceSplitter(max_tokens=10_000)
    n_questions = 0
    with gold_file.open("w", encoding="utf-8") as gold:
        for number, article in enumerate(data):
            title = article["title"].replace("_", " ")
            name = f"{number:03d}_{_UNSAFE.sub('_', article['title'])[:60]}.txt"
            text = title
            for paragraph in article["paragraphs"]:
                text += "\n\n" + paragraph["context"].replace("\n", " ")
                sentences = splitter.run(paragraph["context"].replace("\n", " "))
                for qa in paragraph["qas"]:
                    impossible = bool(qa.get("is_impossible"))
                    answers = list(dict.fromkeys(a["text"] for a in qa["answers"])) if not impossible else []
                    start = qa["answers"][0]["answer_start"] if answers else None
                    evidence = next((s.text for s in sentences if start is not None and s.start <= start < s.end), "")
                    record = {
                        "id": qa["id"],
                        "question": qa["question"].strip(),
                        "answers": answers,
                        "sources": [name] if answers else [],
                        "type": _question_type(qa["question"], impossible),
                        "evidence": evidence,
                    }
                    gold.write(json.dumps(record, ensure_ascii=False) + "\n")
                    n_questions += 1
            (articles_dir / name).write_text(text + "\n", encoding="utf-8")
    return articles_dir, gold_file, len(data), n_questions
