"""Evaluation results → a Markdown report with PNG plots beside it."""

from __future__ import annotations

from pathlib import Path

from .evaluation import (
    RECALL_KS,
    QuestionResult,
    aurc,
    recall_at,
    reliability,
    risk_coverage,
)

_ROWS = [
    ("retrieval", "recall@1"),
    ("retrieval", "recall@5"),
    ("retrieval", "recall@10"),
    ("retrieval", "mrr"),
    ("retrieval", "answer_in_top5"),
    ("answer", "hit"),
    ("answer", "em"),
    ("answer", "f1"),
    ("citation", "precision"),
    ("citation", "recall"),
    ("abstain", "precision"),
    ("abstain", "recall"),
    ("abstain", "false_abstain_rate"),
    ("abstain", "recall_at_false_abstain_0.05"),
    ("abstain", "recall_at_false_abstain_0.10"),
    ("selective", "aurc"),
    ("latency_ms", "p50"),
    ("latency_ms", "p95"),
]


def _cell(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pyplot():
    """matplotlib's pyplot drawing to files only (no display needed), imported when a report is written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_recall(results: dict[str, list[QuestionResult]], path: Path, title: str) -> None:
    plt = _pyplot()

    ks = range(1, max(RECALL_KS) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rs in results.items():
        ax.plot(ks, [recall_at(rs, k) for k in ks], marker="o", label=f"{name}: gold source")
        ax.plot(ks, [recall_at(rs, k, "answer_rank") for k in ks], linestyle="--", label=f"{name}: answer in passage")
    ax.set(
        xlabel="k (passages retrieved)",
        ylabel="share of answerable questions",
        title=f"Recall@k — {title}",
        ylim=(0, 1.02),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_confidence(results: list[QuestionResult], path: Path, title: str, threshold: float) -> None:
    """Histograms of confidence for right answers, wrong answers and unanswerable questions (left), and the
    reliability diagram of the answers given (right): how often an answer of each confidence was right."""
    plt = _pyplot()

    groups = {
        "answerable, right answer": [r.confidence for r in results if r.answerable and r.hit],
        "answerable, wrong or abstained": [r.confidence for r in results if r.answerable and not r.hit],
        "unanswerable": [r.confidence for r in results if not r.answerable],
    }
    fig, (ax, diagram) = plt.subplots(1, 2, figsize=(11, 4))
    bins = [i / 20 for i in range(21)]
    for (label, values), color in zip(groups.items(), ("tab:green", "tab:orange", "tab:red")):
        if values:
            ax.hist(values, bins=bins, alpha=0.55, label=f"{label} ({len(values)})", color=color)
    ax.axvline(threshold, color="black", linestyle=":", label=f"abstain below {threshold}")
    ax.set(xlabel="confidence", ylabel="questions", title=f"Confidence — {title}")
    ax.legend(fontsize=8)
    answered = [r for r in results if not r.abstained]
    points = reliability([r.confidence for r in answered], [r.hit for r in answered])
    diagram.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    if points:
        diagram.plot([p["confidence"] for p in points], [p["right"] for p in points], marker="o", label="answers given")
        for p in points:
            diagram.annotate(
                str(p["n"]), (p["confidence"], p["right"]), textcoords="offset points", xytext=(4, -10), fontsize=7
            )
    diagram.set(
        xlabel="confidence (bin mean)",
        ylabel="share right",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"Reliability of answers given ({len(answered)})",
    )
    diagram.grid(alpha=0.3)
    diagram.legend(fontsize=8)
    _save(fig, path)


def baseline_selective(run: dict) -> dict:
    """The risk–coverage of an earlier run's JSON; one written before runs recorded it is rebuilt from its
    questions, an abstained question counting as wrong (exact up to the share it answered, pessimistic past it)."""
    if "selective" in run:
        return run["selective"]
    questions = run["questions"][run["retriever"]]
    confidence, right = [q["confidence"] for q in questions], [q["hit"] for q in questions]
    return {"aurc": aurc(confidence, right), "risk_coverage": risk_coverage(confidence, right)}


def plot_risk_coverage(metrics: dict[str, dict], path: Path, title: str, baseline: dict | None = None) -> None:
    """Risk–coverage curves (answering only the most confident questions), each retriever's and, when given,
    the previous version's: the lower the curve, the better confidence orders right answers before wrong ones."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    curves = [(name, m["selective"], "-") for name, m in metrics.items()]
    if baseline and "selective" in baseline:
        curves.append((f"previous ({baseline.get('retriever', '?')})", baseline["selective"], ":"))
    for name, selective, style in curves:
        coverage, risk = zip(*selective["risk_coverage"]) if selective["risk_coverage"] else ((), ())
        ax.plot(coverage, risk, linestyle=style, marker=".", label=f"{name}: AURC {selective['aurc']:.3f}")
    ax.set(
        xlabel="coverage (share of questions answered, most confident first)",
        ylabel="risk (share of answers wrong)",
        title=f"Risk–coverage — {title}",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def threshold_table(results: list[QuestionResult], threshold: float) -> list[str]:
    """What abstaining below each confidence would give: the trade-off the threshold is chosen from."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    lines = [
        "| abstain below | answered right | false abstain rate | abstain recall | abstain precision |",
        "|---|---|---|---|---|",
    ]
    for below in sorted({0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(threshold, 3)}):
        abstain = [r.abstained or r.confidence < below for r in results]
        kept_right = sum(r.hit and r.confidence >= below for r in answerable)
        false_abstain = sum(a for a, r in zip(abstain, results) if r.answerable)
        true_abstain = sum(a for a, r in zip(abstain, results) if not r.answerable)
        lines.append(
            f"| {below:.3g} | {kept_right / max(1, len(answerable)):.3f} | {false_abstain / max(1, len(answerable)):.3f} | "
            f"{f'{true_abstain / len(unanswerable):.3f}' if unanswerable else '-'} | "
            f"{true_abstain / max(1, sum(abstain)):.3f} |"
        )
    return lines


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)


def write_report(
    results: dict[str, list[QuestionResult]],
    metrics: dict[str, dict],
    path: str | Path,
    title: str,
    meta: dict,
    max_failures: int = 60,
    baseline: dict | None = None,
) -> list[Path]:
    """Write the Markdown report and its plots (`metrics`: `summarize` of each retriever; `baseline`: the JSON of
    an earlier `rag eval`, shown beside them); return the files written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    main = next(iter(results))
    recall_png, confidence_png, risk_png = (
        path.with_name(f"{path.stem}-{n}.png") for n in ("recall", "confidence", "risk-coverage")
    )
    plot_recall(results, recall_png, title)
    plot_confidence(results[main], confidence_png, f"{title} ({main})", meta["abstain_below"])
    if baseline:
        baseline = {**baseline, "selective": baseline_selective(baseline)}
        metrics = {**metrics, "previous": baseline}
    plot_risk_coverage({n: m for n, m in metrics.items() if n != "previous"}, risk_png, title, baseline)
    lines = _summary(metrics, main, title, meta)
    lines += _by_type(metrics[main], main, recall_png)
    lines += _abstention(results[main], main, meta["abstain_below"], confidence_png)
    lines += _risk_coverage(risk_png, bool(baseline))
    lines += _failures(results[main], main, max_failures)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path, recall_png, confidence_png, risk_png]


def _summary(metrics: dict[str, dict], main: str, title: str, meta: dict) -> list[str]:
    """The run's settings, the retrievers side by side and the answer states."""
    names = list(metrics)
    lines = [f"# Evaluation: {title}", ""]
    lines += [f"- {key}: `{value}`" for key, value in meta.items()]
    lines += ["", f"## Retrievers side by side (k = {meta.get('k', 5)} passages for the answer)", ""]
    lines += ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(metrics)]
    lines += [
        f"| {group} {key} | " + " | ".join(f"{metrics[n].get(group, {}).get(key, '-')}" for n in names) + " |"
        for group, key in _ROWS
    ]
    lines += ["", f"## Answer states ({main})", "", "| state | share | right |", "|---|---|---|"]
    lines += [f"| {state} | {v['share']} | {v['right']} |" for state, v in metrics[main].get("states", {}).items()]
    return lines + [
        "",
        f"Sure (*answered*) from {meta.get('answered_from', '-')}, *abstained* below {meta['abstain_below']}, "
        "*tentative* between. An abstention is right on an unanswerable question.",
    ]


def _by_type(metrics: dict, main: str, recall_png: Path) -> list[str]:
    lines = ["", f"![recall@k]({recall_png.name})", "", f"## Per question type ({main})", ""]
    lines += ["| type | n | hit | em | f1 |", "|---|---|---|---|---|"]
    lines += [f"| {t} | {m['n']} | {m['hit']} | {m['em']} | {m['f1']} |" for t, m in metrics["by_type"].items()]
    return lines + ["", "On `unanswerable` questions a right abstention counts as a hit (and em = f1 = 1).", ""]


def _abstention(results: list[QuestionResult], main: str, threshold: float, confidence_png: Path) -> list[str]:
    lines = [f"## Confidence and abstention ({main})", "", f"![confidence]({confidence_png.name})", ""]
    lines += [
        "Confidence is the reader's calibrated probability that the quote holds the answer; the answer builder",
        f"abstains below {threshold:.3g} (chosen on held-out training questions, see the reader's model card, rag/models/reader/README.md).",
        "Rows below the chosen threshold count only abstentions that already happened; each row shows what",
        "abstaining below that value would give.",
        "",
    ]
    return lines + threshold_table(results, threshold)


def _risk_coverage(risk_png: Path, with_baseline: bool) -> list[str]:
    return [
        "",
        "## Risk–coverage",
        "",
        f"![risk-coverage]({risk_png.name})",
        "",
        "Answering only the most confident share of the questions: the share of those answers that are wrong (an",
        "answer to an unanswerable question is wrong). AURC is the area under the curve; lower is better."
        + (" The dotted curve is the previous version's run." if with_baseline else ""),
    ]


def _failures(results: list[QuestionResult], main: str, max_failures: int) -> list[str]:
    failures = [r for r in results if not r.correct]
    shown = f", first {max_failures} shown" if len(failures) > max_failures else ""
    lines = ["", f"## Failed questions ({main}: {len(failures)} of {len(results)}{shown})", ""]
    lines += ["| id | type | question | expected | returned | cited | confidence |", "|---|---|---|---|---|---|---|"]
    for r in failures[:max_failures]:
        returned = r.error or ("(abstained)" if r.abstained else (r.span or r.answer))
        lines.append(
            f"| {r.id} | {r.type} | {_cell(r.question)} | {_cell(' / '.join(r.expected) or '(unanswerable)', 60)} | "
            f"{_cell(returned)} | {_cell(', '.join(r.cited) or '-', 60)} | {r.confidence:.2f} |"
        )
    return lines
