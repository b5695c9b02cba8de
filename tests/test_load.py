"""eval/bench/load.py in small: concurrent users of `python app.py` get exactly the answers each question gets alone.

Ten users, two more than the queue's eight workers, so that answers are both computed side by side and
held in the queue; figures are printed, never asserted (speed is measured by the script, not tested)."""

from eval.bench.load import main
from rag.store import COMMIT_FILE
from tests.conftest import ARTICLES


def test_concurrent_users_get_no_errors_and_no_mixed_answers(articles_index):
    commit = (articles_index / COMMIT_FILE).read_bytes()
    report = main(
        ["--corpus", str(ARTICLES), "--index-dir", str(articles_index), "--users", "10", "--questions-per-user", "2"]
    )
    assert report.requests == 20 and report.distinct_questions == 20
    assert report.errors == 0 and report.mixed == 0, report.samples
    assert 0 < report.answering.p50_s <= report.latency.p50_s and report.waiting.p50_s >= 0
    assert report.cores.server is not None and report.cores.server > 0
    assert (articles_index / COMMIT_FILE).read_bytes() == commit  # the server ran on a copy
