"""The Markdown report and plots of `rag eval --report` (rag/report.py), from four hand-made results whose metrics are
worked out by hand below."""

import struct
from pathlib import Path

import pytest

from rag.evaluation import QuestionResult, evaluation_json, summarize
from rag.report import baseline_selective, threshold_table, write_report

META = {"gold": "tiny.jsonl", "k": 5, "abstain_below": 0.3, "answered_from": 0.7}


def result(**fields) -> QuestionResult:
    base = dict(id="q", type="factoid", question="?", expected=["x"], sources=["a.txt"])
    return QuestionResult(**{**base, **fields})


def hybrid() -> list[QuestionResult]:
    return [
        # Right, sure, its source first.
        result(
            id="q1",
            question="Who speaks for the Kremlin?",
            expected=["Peskov"],
            sources=["a.txt"],
            retrieved=["a.txt", "b.txt"],
            answer_rank=1,
            abstained=False,
            state="answered",
            confidence=0.9,
            cited=["a.txt"],
            hit=True,
            em=1.0,
            f1=1.0,
            latency_ms=10,
            quote_holds_answer=True,
            answer="Dmitry Peskov said",
            span="Peskov",
        ),
        # Wrong, tentative, its source second, citing the wrong article.
        result(
            id="q2",
            question="Where were the talks?",
            expected=["Moscow"],
            sources=["b.txt"],
            retrieved=["a.txt", "b.txt"],
            answer_rank=2,
            abstained=False,
            state="tentative",
            confidence=0.5,
            cited=["a.txt"],
            latency_ms=20,
            answer="in Kyiv",
            span="Kyiv",
        ),
        # Unanswerable, rightly abstained.
        result(
            id="q3",
            type="unanswerable",
            question="Who won in 2030?",
            expected=[],
            sources=[],
            retrieved=["a.txt"],
            confidence=0.1,
            latency_ms=30,
        ),
        # Unanswerable, answered all the same (a "|" in it, which a Markdown cell escapes).
        result(
            id="q4",
            type="unanswerable",
            question="Is it yes | no?",
            expected=[],
            sources=[],
            retrieved=["b.txt"],
            abstained=False,
            state="answered",
            confidence=0.8,
            cited=["b.txt"],
            latency_ms=40,
            answer="Yes | no",
        ),
    ]


def bm25() -> list[QuestionResult]:
    """The same questions, every one abstained at confidence 0.2, only b.txt retrieved."""
    return [
        result(
            id=r.id,
            type=r.type,
            question=r.question,
            expected=r.expected,
            sources=r.sources,
            retrieved=["b.txt"],
            confidence=0.2,
            latency_ms=5,
        )
        for r in hybrid()
    ]


def table(markdown: str, heading: str) -> list[str]:
    """The table under a heading: its lines, header included."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and heading in line)
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[first:end]


SIDE_BY_SIDE = [  # hybrid worked out by hand; bm25 abstains on all four, its only source found (b.txt) ranking first for q2
    "| metric | hybrid | bm25 |",
    "|---|---|---|",
    "| retrieval recall@1 | 0.5 | 0.5 |",  # q1's source first, q2's second
    "| retrieval recall@5 | 1.0 | 0.5 |",
    "| retrieval recall@10 | 1.0 | 0.5 |",
    "| retrieval mrr | 0.75 | 0.5 |",  # (1 + 1/2) / 2
    "| retrieval answer_in_top5 | 1.0 | 0.0 |",
    "| answer hit | 0.5 | 0.0 |",
    "| answer em | 0.5 | 0.0 |",
    "| answer f1 | 0.5 | 0.0 |",
    "| citation precision | 0.3333 | 0.0 |",  # q1 right, q2 and q4 wrong
    "| citation recall | 0.5 | 0.0 |",
    "| abstain precision | 1.0 | 0.5 |",
    "| abstain recall | 0.5 | 1.0 |",
    "| abstain false_abstain_rate | 0.0 | 1.0 |",
    "| abstain recall_at_false_abstain_0.05 | 0.5 | 0.0 |",  # below 0.52 (the 5% quantile of 0.5, 0.9): q3, not q4
    "| abstain recall_at_false_abstain_0.10 | 0.5 | 0.0 |",
    "| selective aurc | 0.4792 | 1.0 |",  # most confident first: wrong 0/1, 1/2, 2/3, 3/4; mean 0.4792
    "| latency_ms p50 | 25.0 | 5.0 |",
    "| latency_ms p95 | 38.5 | 5.0 |",  # 30 + 0.85 × 10
]


@pytest.fixture
def report(tmp_path) -> tuple[list[Path], str]:
    results = {"hybrid": hybrid(), "bm25": bm25()}
    written = write_report(
        results, {n: summarize(rs) for n, rs in results.items()}, tmp_path / "out" / "tiny.md", "Tiny", META
    )
    return written, written[0].read_text(encoding="utf-8")


def test_the_report_and_its_three_plots_are_written(report, tmp_path):
    written, markdown = report
    folder = tmp_path / "out"
    assert written == [
        folder / "tiny.md",
        folder / "tiny-recall.png",
        folder / "tiny-confidence.png",
        folder / "tiny-risk-coverage.png",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in written)
    for png in ("tiny-recall.png", "tiny-confidence.png", "tiny-risk-coverage.png"):
        assert f"]({png})" in markdown


@pytest.mark.parametrize(
    "name, size",
    [("tiny-recall.png", (660, 440)), ("tiny-confidence.png", (1210, 440)), ("tiny-risk-coverage.png", (660, 440))],
)
def test_the_plots_are_valid_pngs_of_their_size(report, tmp_path, name, size):
    import matplotlib.image

    data = (tmp_path / "out" / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == size  # figure inches × 110 dpi
    pixels = matplotlib.image.imread(tmp_path / "out" / name)
    assert pixels.shape[:2] == (size[1], size[0])


def test_the_header_lists_the_runs_settings(report):
    lines = report[1].splitlines()
    assert lines[:7] == [
        "# Evaluation: Tiny",
        "",
        "- gold: `tiny.jsonl`",
        "- k: `5`",
        "- abstain_below: `0.3`",
        "- answered_from: `0.7`",
        "",
    ]
    assert "Sure (*answered*) from 0.7, *abstained* below 0.3, *tentative* between." in report[1]


def test_retrievers_side_by_side(report):
    assert table(report[1], "Retrievers side by side (k = 5") == SIDE_BY_SIDE


def test_answer_states_and_question_types_of_the_first_retriever(report):
    assert table(report[1], "Answer states (hybrid)") == [
        "| state | share | right |",
        "|---|---|---|",
        "| answered | 0.5 | 0.5 |",  # q1 right, q4 answered an unanswerable question
        "| tentative | 0.25 | 0.0 |",
        "| abstained | 0.25 | 1.0 |",
    ]
    assert table(report[1], "Per question type (hybrid)") == [
        "| type | n | hit | em | f1 |",
        "|---|---|---|---|---|",
        "| factoid | 2 | 0.5 | 0.5 | 0.5 |",
        "| unanswerable | 2 | 0.5 | 0.5 | 0.5 |",  # q3's abstention scores 1, q4's answer 0
    ]


def test_the_threshold_table(report):
    assert table(report[1], "Confidence and abstention (hybrid)") == [
        "| abstain below | answered right | false abstain rate | abstain recall | abstain precision |",
        "|---|---|---|---|---|",
        "| 0.2 | 0.500 | 0.000 | 0.500 | 1.000 |",  # q3 only (abstained)
        "| 0.3 | 0.500 | 0.000 | 0.500 | 1.000 |",
        "| 0.4 | 0.500 | 0.000 | 0.500 | 1.000 |",
        "| 0.5 | 0.500 | 0.000 | 0.500 | 1.000 |",
        "| 0.6 | 0.500 | 0.500 | 0.500 | 0.500 |",  # and q2 (0.5)
        "| 0.7 | 0.500 | 0.500 | 0.500 | 0.500 |",
        "| 0.8 | 0.500 | 0.500 | 0.500 | 0.500 |",
        "| 0.9 | 0.500 | 0.500 | 1.000 | 0.667 |",  # and q4 (0.8)
    ]


def test_a_threshold_off_the_grid_gets_its_own_row():
    rows = threshold_table(hybrid(), 0.45)
    assert [row.split(" | ")[0] for row in rows[2:]] == [
        "| 0.2",
        "| 0.3",
        "| 0.4",
        "| 0.45",
        "| 0.5",
        "| 0.6",
        "| 0.7",
        "| 0.8",
        "| 0.9",
    ]
    answerable_only = threshold_table(hybrid()[:2], 0.3)
    assert answerable_only[2] == "| 0.2 | 0.500 | 0.000 | - | 0.000 |"  # no unanswerable question: no abstain recall


def test_failed_questions(report):
    assert "## Failed questions (hybrid: 2 of 4)" in report[1].splitlines()
    assert table(report[1], "Failed questions") == [
        "| id | type | question | expected | returned | cited | confidence |",
        "|---|---|---|---|---|---|---|",
        "| q2 | factoid | Where were the talks? | Moscow | Kyiv | a.txt | 0.50 |",
        "| q4 | unanswerable | Is it yes \\| no? | (unanswerable) | Yes \\| no | b.txt | 0.80 |",
    ]
    assert "The dotted curve" not in report[1]


def test_failures_past_the_limit_are_counted_not_shown_and_long_cells_cut(tmp_path):
    long = "Why " + "very " * 30 + "long?"
    failed = [result(id=f"f{i}", question=long, expected=["x"], error="boom" if i == 0 else None) for i in range(3)]
    path = write_report({"dense": failed}, {"dense": summarize(failed)}, tmp_path / "r.md", "T", META, max_failures=2)[
        0
    ]
    markdown = path.read_text(encoding="utf-8")
    assert "## Failed questions (dense: 3 of 3, first 2 shown)" in markdown
    cut = long[:89] + "…"
    assert table(markdown, "Failed questions")[2:] == [
        f"| f0 | factoid | {cut} | x | boom | - | 0.00 |",
        f"| f1 | factoid | {cut} | x | (abstained) | - | 0.00 |",
    ]


def test_a_baseline_is_shown_beside_the_retrievers(tmp_path):
    results = {"hybrid": hybrid(), "bm25": bm25()}
    metrics = {n: summarize(rs) for n, rs in results.items()}
    earlier = evaluation_json({"bm25": bm25()}, {"bm25": metrics["bm25"]}, 5, META)
    markdown = write_report(results, metrics, tmp_path / "r.md", "Tiny", META, baseline=earlier)[0].read_text()
    expected = [SIDE_BY_SIDE[0] + " previous |", "|---|---|---|---|"]
    expected += [row + f" {row.split(' | ')[-1]}" for row in SIDE_BY_SIDE[2:]]  # bm25 ran again: the same values
    assert table(markdown, "Retrievers side by side") == expected
    assert "lower is better. The dotted curve is the previous version's run." in markdown


def test_an_old_baseline_without_selective_is_rebuilt_from_its_questions(tmp_path):
    old = {
        "retriever": "hybrid",
        "answer": {"hit": 0.25},
        "retrieval": {"mrr": 0.125},
        "questions": {"hybrid": [{"confidence": 0.9, "hit": True}, {"confidence": 0.4, "hit": False}]},
    }
    assert baseline_selective(old) == {"aurc": 0.25, "risk_coverage": [[0.5, 0.0], [1.0, 0.5]]}
    assert baseline_selective({"selective": {"aurc": 0.1, "risk_coverage": []}}) == {"aurc": 0.1, "risk_coverage": []}
    results = {"hybrid": hybrid()}
    markdown = write_report(results, {"hybrid": summarize(hybrid())}, tmp_path / "r.md", "Tiny", META, baseline=old)[
        0
    ].read_text()
    rows = {row.split(" | ")[0]: row for row in table(markdown, "Retrievers side by side")}
    assert rows["| answer hit"] == "| answer hit | 0.5 | 0.25 |"
    assert rows["| retrieval mrr"] == "| retrieval mrr | 0.75 | 0.125 |"
    assert rows["| selective aurc"] == "| selective aurc | 0.4792 | 0.25 |"
    assert rows["| citation recall"] == "| citation recall | 0.5 | - |"  # not in the old run
    assert "selective" not in old  # the caller's dict is left as it was
