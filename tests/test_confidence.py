"""The confidence model's signals say what they mean, and its probability is a logistic model over them."""

import math

import pytest

from rag.confidence import FEATURES, Candidate, Confidence, features


def candidate(answer, source="a.txt", probability=0.5, rank=0, share=1.0, coverage=0.5):
    return Candidate(answer, source, probability, rank, share, coverage)


def test_agreeing_passages_and_articles_raise_agreement_and_the_margin_counts_only_other_answers():
    rows = features(
        [
            candidate("Dmitry Peskov", probability=0.4),
            candidate("Peskov", "b.txt", 0.3, rank=2),
            candidate("Yuri Ushakov", "c.txt", 0.1, rank=1),
        ],
        no_answer=0.2,
    )
    first, second, third = rows
    assert set(first) == set(FEATURES)
    assert first["agreement"] == pytest.approx(0.7 / 0.8, rel=1e-6) and first["articles"] == pytest.approx(math.log(2))
    assert first["margin"] == pytest.approx(math.log(0.4) - math.log(0.1), rel=1e-6)
    assert third["agreement"] == pytest.approx(0.1 / 0.8, rel=1e-6) and third["articles"] == 0.0
    assert first["evidence"] == pytest.approx(math.log(0.4 / 0.2), rel=1e-6)
    assert (first["reader_rank"], second["reader_rank"], second["retrieval_rank"]) == (1.0, 0.5, 1 / 3)


def test_a_lone_answer_has_a_capped_margin():
    [row] = features([candidate("Istanbul")], no_answer=0.5)
    assert row["margin"] == 12.0 and row["agreement"] == pytest.approx(1.0)


def test_the_probability_is_logistic_over_standardised_signals_and_survives_a_round_trip(tmp_path):
    model = Confidence(
        weights={"evidence": 2.0, "coverage": 1.0},
        intercept=-1.0,
        mean={"evidence": 1.0},
        scale={"evidence": 2.0},
        threshold=0.3,
    )
    row = dict.fromkeys(FEATURES, 0.0) | {"evidence": 3.0, "coverage": 0.5}
    assert model.probability(row) == pytest.approx(1 / (1 + math.exp(-(-1.0 + 2.0 * (3.0 - 1.0) / 2.0 + 0.5))))
    model.save(tmp_path / "calibration.json")
    assert Confidence.load(tmp_path / "calibration.json") == model
    assert Confidence().probability(row) == 0.5 and Confidence().threshold == 0.0


def test_a_calibration_file_naming_unknown_signals_is_refused(tmp_path):
    (tmp_path / "calibration.json").write_text('{"weights": {"shoe_size": 1.0}}')
    with pytest.raises(ValueError, match="shoe_size"):
        Confidence.load(tmp_path / "calibration.json")
