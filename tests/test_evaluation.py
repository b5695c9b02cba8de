import json
import subprocess
import sys
from dataclasses import replace

import pytest

from rag.errors import RagError
from rag.evaluation import (
    Evaluator,
    GoldQuestion,
    QuestionResult,
    contains_answer,
    exact_match,
    f1_score,
    load_gold,
    normalize_answer,
    select,
    summarize,
)
from rag.squad import import_squad
from tests.conftest import ARTICLES, ROOT


def test_squad_normalisation_and_scores():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert exact_match("the Denver Broncos", ["Denver Broncos"]) == 1.0
    assert f1_score("Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)
    assert f1_score("Carolina", ["Denver Broncos"]) == 0.0
    assert contains_answer("Kremlin spokesperson Dmitry Peskov stated…", ["Dmitry Peskov"])
    assert not contains_answer("Peskovian", ["Peskov"])
    assert contains_answer(
        "Addressing a question from NBC’s Kier Simmons", ["NBC"]
    )  # the possessive is a word of its own
    assert contains_answer("TRUMP'S CRITICISM", ["Trump"]) and not contains_answer("NBCs", ["NBC"])
    assert contains_answer("in the 1990s", ["1990's"]) and contains_answer(
        "Ukraine's", ["Ukraines"]
    )  # SQuAD's reading still holds


def result(**fields) -> QuestionResult:
    base = dict(id="q", type="factoid", question="?", expected=["x"], sources=["a.txt"])
    return QuestionResult(**{**base, **fields})


def test_metrics_count_every_question_and_define_abstention():
    results = [
        result(
            id="1",
            answer="x",
            abstained=False,
            state="answered",
            confidence=0.9,
            hit=True,
            em=1.0,
            f1=1.0,
            cited=["a.txt"],
            retrieved=["a.txt", "b.txt"],
        ),
        result(
            id="2",
            answer="y",
            abstained=False,
            state="tentative",
            confidence=0.6,
            cited=["b.txt"],
            retrieved=["b.txt", "a.txt"],
        ),
        result(id="3", abstained=True, confidence=0.2, retrieved=["b.txt"]),  # false abstention
        result(id="4", type="unanswerable", expected=[], sources=[], abstained=True, confidence=0.1),
        result(
            id="5",
            type="unanswerable",
            expected=[],
            sources=[],
            abstained=False,
            state="answered",
            confidence=0.7,
            answer="z",
            cited=["c.txt"],
        ),
        result(id="6", error="boom"),  # an error is a miss, not dropped
    ]
    m = summarize(results)
    assert m["n"] == 6 and m["n_answerable"] == 4 and m["errors"] == 1
    assert m["retrieval"]["recall@1"] == 0.25 and m["retrieval"]["recall@5"] == 0.5
    assert m["retrieval"]["mrr"] == pytest.approx((1 + 0.5) / 4, abs=1e-4)
    assert m["answer"]["hit"] == 0.25 and m["answer"]["em"] == 0.25
    assert m["citation"]["precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["citation"]["recall"] == 0.25
    assert m["abstain"] == {
        "precision": pytest.approx(1 / 3, abs=1e-4),
        "recall": 0.5,
        "false_abstain_rate": 0.5,
        "recall_at_false_abstain_0.05": 0.5,
        "recall_at_false_abstain_0.10": 0.5,
    }  # 0.1 is below 0.24, 0.7 not
    assert m["states"] == {
        "answered": {"share": pytest.approx(1 / 3, abs=1e-4), "right": 0.5},
        "tentative": {"share": pytest.approx(1 / 6, abs=1e-4), "right": 0.0},
        "abstained": {"share": 0.5, "right": pytest.approx(1 / 3, abs=1e-4)},
    }
    assert m["by_type"]["unanswerable"] == {"n": 2, "hit": 0.5, "em": 0.5, "f1": 0.5}


def test_gold_file_errors_name_the_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "question": "Q?", "answers": [], "sources": []}\n{"id": "b", "question": "Q?"}\n')
    with pytest.raises(RagError, match="line 2.*missing answers, sources"):
        load_gold(gold)
    gold.write_text('{"id": "a", "question": "Q?", "answers": [], "sources": []}\n' * 2)
    with pytest.raises(RagError, match="duplicate id"):
        load_gold(gold)


def test_select_limits_and_samples_reproducibly():
    questions = [GoldQuestion(str(i), "q", [], []) for i in range(50)]
    assert [q.id for q in select(questions, limit=3)] == ["0", "1", "2"]
    assert (
        select(questions, sample=10, seed=1)
        == select(questions, sample=10, seed=1)
        != select(questions, sample=10, seed=2)
    )


SQUAD = {
    "version": "2.0",
    "data": [
        {
            "title": "Super_Bowl_50",
            "paragraphs": [
                {
                    "context": "Super Bowl 50 was played in Santa Clara. The Denver Broncos won the game.",
                    "qas": [
                        {
                            "id": "s1",
                            "question": "Who won Super Bowl 50?",
                            "answers": [
                                {"text": "Denver Broncos", "answer_start": 45},
                                {"text": "Denver Broncos", "answer_start": 45},
                            ],
                        },
                        {
                            "id": "s2",
                            "question": "Where was the halftime ticket printed?",
                            "answers": [],
                            "is_impossible": True,
                        },
                    ],
                },
                {
                    "context": "Attendance was 71,088.",
                    "qas": [
                        {
                            "id": "s3",
                            "question": "How many attended?",
                            "answers": [{"text": "71,088", "answer_start": 15}],
                        }
                    ],
                },
            ],
        }
    ],
}


def test_import_squad_writes_articles_and_gold(tmp_path):
    source = tmp_path / "squad.json"
    source.write_text(json.dumps(SQUAD))
    articles, gold_file, n_articles, n_questions = import_squad(source, tmp_path / "out")
    text = (articles / "000_Super_Bowl_50.txt").read_text()
    assert text == (
        "Super Bowl 50\n\n"  # the title, then each paragraph
        "Super Bowl 50 was played in Santa Clara. The Denver Broncos won the game.\n\nAttendance was 71,088.\n"
    )
    gold = {q.id: q for q in load_gold(gold_file)}
    assert (n_articles, n_questions) == (1, 3)
    assert (
        gold["s1"].answers == ["Denver Broncos"]
        and gold["s1"].sources == ["000_Super_Bowl_50.txt"]
        and gold["s1"].type == "who"
    )
    assert gold["s1"].evidence == "The Denver Broncos won the game."
    assert gold["s2"].answers == [] and gold["s2"].sources == [] and gold["s2"].type == "unanswerable"
    assert gold["s3"].type == "how_many"
    assert "CC BY-SA 4.0" in (tmp_path / "out" / "NOTICE").read_text()


def test_evaluator_asks_every_question_with_every_retriever(qa):
    questions = [
        GoldQuestion("p", "Who is the Kremlin spokesperson?", ["Dmitry Peskov"], ["000_9cebef51757e5eed.txt"]),
        GoldQuestion("u", "What is the recipe for a chocolate cake?", [], [], "unanswerable"),
    ]
    results = Evaluator(qa, k=5).run(questions)
    assert list(results) == ["hybrid", "dense", "bm25"]
    for name, (peskov, cake) in results.items():
        assert peskov.hit and peskov.source_rank == 1 and peskov.cited[0] == "000_9cebef51757e5eed.txt"
        assert len(peskov.retrieved) == (7 if name == "bm25" else 10)  # bm25 returns only chunks sharing a term
        assert cake.abstained and cake.correct
        assert len(cake.retrieved) == (0 if name == "bm25" else 10)  # no query term occurs in the articles


def test_right_answers_are_quoted_from_the_evidence_and_a_follow_up_after_them_is_read_with_them(qa):
    from rag.evaluation import ASKED, ConversationEvaluator, ConversationTurn, right_answer

    source = "000_9cebef51757e5eed.txt"
    who = ConversationTurn(
        "Who said that about Putin?",
        "Who said Putin is trying to manipulate Trump?",
        ["Zelenskyy"],
        [source],
        "first",
        "In a late-night video address on Friday, President Zelenskyy stated that Putin is attempting to “manipulate” Trump.",
    )
    when = ConversationTurn(
        "When did he say it?",
        "When did Zelenskyy say Putin is trying to manipulate Trump?",
        ["Friday"],
        [source],
        "follow_up",
        who.evidence,
    )
    right = right_answer(who, qa.store)
    text = (ARTICLES / source).read_text(encoding="utf-8")
    assert text[right.said.start : right.said.end] == "Zelenskyy" == right.answer and right.source == source
    assert text[right.quoted.start : right.quoted.end] == who.evidence and right.offset == right.quoted.start
    assert right.question == right.asked == who.standalone and not right.carried  # as if asked whole
    assert (
        right_answer(replace(who, sources=["not-indexed.txt", source]), qa.store) == right
    )  # the first source holding it
    refused = right_answer(replace(when, answers=[], kind="unanswerable_follow_up"), qa.store)
    assert (refused.question, refused.answer, refused.source, refused.said) == (when.standalone, None, None, None)
    with pytest.raises(RagError, match="holds its evidence"):
        right_answer(replace(who, evidence="Zelenskyy never said this sentence"), qa.store)
    with pytest.raises(RagError, match="which it does not give"):
        right_answer(replace(who, evidence=""), qa.store)
    with pytest.raises(RagError, match="states none"):  # whole words only: "Zelensky" is not in "Zelenskyy"
        right_answer(replace(who, answers=["Zelensky"]), qa.store)
    assert right_answer(replace(who, answers=["Zelensky", "Zelenskyy"]), qa.store) == right

    first, follow_up = ConversationEvaluator(qa).run([("z", [who, when])])
    assert all(asked in first and asked in follow_up for asked in ASKED)
    assert first["after_right_answers"]["understood"] is None  # a first turn has nothing to be read with
    assert follow_up["after_right_answers"]["understood"].startswith("When did Zelenskyy say it (")
    assert "manipulate" in follow_up["after_right_answers"]["understood"]  # the earlier turn's words, as asked whole
    assert follow_up["alone"]["understood"] is None and follow_up["standalone"]["hit"]


def test_rag_eval_command_prints_table_and_writes_json_and_report(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {
                    "id": "a",
                    "question": "Who is the Kremlin spokesperson?",
                    "answers": ["Dmitry Peskov"],
                    "sources": ["000_9cebef51757e5eed.txt"],
                    "type": "factoid",
                },
                {
                    "id": "b",
                    "question": "What is the recipe for a chocolate cake?",
                    "answers": [],
                    "sources": [],
                    "type": "unanswerable",
                },
            ]
        )
    )
    out, report = tmp_path / "out.json", tmp_path / "reports" / "articles.md"
    previous = tmp_path / "previous.json"  # as an earlier version wrote it: no risk–coverage, questions only
    previous.write_text(
        json.dumps(
            {
                "retriever": "hybrid",
                "answer": {"hit": 0.5},
                "questions": {"hybrid": [{"confidence": 0.9, "hit": False}, {"confidence": 0.2, "hit": False}]},
            }
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "eval",
            "--gold",
            str(gold),
            "--corpus",
            str(ARTICLES),
            "--index-dir",
            str(tmp_path / "idx"),
            "--json",
            str(out),
            "--report",
            str(report),
            "--baseline",
            str(previous),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "retrieval recall@5" in done.stdout and "hybrid" in done.stdout and "bm25" in done.stdout
    data = json.loads(out.read_text())
    assert data["n"] == 2 and set(data) >= {
        "retrieval",
        "answer",
        "citation",
        "abstain",
        "latency_ms",
        "by_type",
        "retrievers",
    }
    assert set(data["retrieval"]) >= {"recall@1", "recall@5", "recall@10", "mrr"}
    assert set(data["abstain"]) == {
        "precision",
        "recall",
        "false_abstain_rate",
        "recall_at_false_abstain_0.05",
        "recall_at_false_abstain_0.10",
    }
    assert (
        data["answer"]["hit"] == 1.0
        and data["abstain"]["recall"] == 1.0
        and data["abstain"]["recall_at_false_abstain_0.05"] == 1.0
    )
    assert set(data["states"]) == {"answered", "tentative", "abstained"} and data["states"]["abstained"]["share"] == 0.5
    assert "states abstained share" in done.stdout
    assert data["selective"]["aurc"] == 0.25 and data["selective"]["risk_coverage"][-1] == [
        1.0,
        0.5,
    ]  # right first, then the cake
    assert set(data["retrievers"]) == {"hybrid", "dense", "bm25"}
    text = report.read_text()
    assert "| metric | hybrid | dense | bm25 | previous |" in text and "Failed questions" in text
    assert "| selective aurc | 0.25 |" in text and text.split("| selective aurc |")[1].split("\n")[0].strip().endswith(
        "| 1.0 |"
    )
    assert (report.parent / "articles-risk-coverage.png").stat().st_size > 5000
    assert (report.parent / "articles-recall.png").stat().st_size > 5000
    assert (report.parent / "articles-confidence.png").stat().st_size > 5000


def test_a_question_that_errors_is_a_miss_not_a_right_abstention(qa):
    class Refusing:
        def clear_cache(self):
            pass

        def ask(self, *args, **kwargs):
            raise RagError("refused")

        retrieve = ask

    [result] = Evaluator(Refusing(), retrievers=("hybrid",)).run([GoldQuestion("u", "Q?", [], [], "unanswerable")])[
        "hybrid"
    ]
    assert result.error == "refused" and not result.abstained and not result.correct
    assert summarize([result])["abstain"]["recall"] == 0.0


def test_risk_coverage_answers_the_most_confident_first_and_aurc_is_its_mean():
    from rag.evaluation import aurc, risk_coverage

    confidence, right = [0.9, 0.8, 0.3, 0.1], [True, False, True, False]
    assert risk_coverage(confidence, right, points=4) == [[0.25, 0.0], [0.5, 0.5], [0.75, 0.3333], [1.0, 0.5]]
    assert aurc(confidence, right) == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4, abs=1e-4)
    assert aurc([0.9, 0.8], [True, True]) == 0.0 and aurc([], []) == 0.0
