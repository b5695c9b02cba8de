"""The `rag` command: build an index, ask questions, serve the web chat, evaluate."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import settings
from .errors import RagError
from .retrieval import RETRIEVERS

DEFAULT_INDEX_DIR = settings.get("INDEX_DIR")
READER_HELP = "reader model folder (default: $VERBATIM_READER or the shipped reader)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Verbatim: answer questions about a folder of news articles with verbatim, cited quotes.",
        epilog='Example: rag index data/articles && rag ask "Who is the Kremlin spokesperson?"\n\n'
        "Settings read from the environment:\n" + settings.described(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _index_parser(commands)
    _ask_parser(commands)
    _chat_parser(commands)
    _serve_parser(commands)
    _hash_password_parser(commands)
    _check_parser(commands)
    _meta_parser(commands)
    _eval_parser(commands)
    _import_squad_parser(commands)
    return parser


def _index_parser(commands) -> None:
    index = commands.add_parser(
        "index",
        help="build or update the index of a folder of articles",
        description="Index every .txt, .md, .html and .pdf file under DIR. Only added, changed "
        "and removed files are processed; an unchanged corpus embeds nothing.",
    )
    index.add_argument("corpus", metavar="DIR", help="folder of articles")
    index.add_argument(
        "--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="where the index lives (default: %(default)s)"
    )
    index.add_argument(
        "--model", default=None, help="sentence-transformers model name or local folder (default: all-MiniLM-L6-v2)"
    )
    index.add_argument(
        "--rebuild", action="store_true", help="start from scratch (needed after changing model or chunker)"
    )
    index.add_argument(
        "--optimize",
        action="store_true",
        help="merge all segments into one afterwards (purges deleted chunks; builds the IVF index when large)",
    )
    index.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="parse, chunk and embed on a Ray cluster (default: start a local one; "
        "needs pip install .[distributed] and an index folder all workers share)",
    )
    index.add_argument(
        "--shards",
        type=int,
        default=None,
        metavar="N",
        help="split the index by article into N shards (each an index of its own, for rag serve --ray; "
        "fixed once built)",
    )
    index.set_defaults(run=_index)


def _ask_parser(commands) -> None:
    ask = commands.add_parser(
        "ask",
        help="ask a question of an indexed corpus",
        description="Answer QUESTION with a verbatim quote from the articles and its citation, "
        'headed "The articles may not answer this" where the quote is a guess, '
        "or say that the articles do not answer it.",
    )
    ask.add_argument("question", metavar="QUESTION")
    _question_arguments(ask)
    ask.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    _filter_arguments(ask)
    ask.set_defaults(run=_ask)


def _chat_parser(commands) -> None:
    chat = commands.add_parser(
        "chat",
        help="a conversation with an indexed corpus: follow-up questions understood",
        description='Ask questions one after another; a follow-up ("Why?", "When did he say it?") '
        "is read against the conversation so far. Line editing and history with the "
        "arrow keys; /new starts a new conversation; Ctrl-D (or /quit) leaves.",
    )
    _question_arguments(chat)
    _filter_arguments(chat)
    chat.set_defaults(run=_chat)


def _hash_password_parser(commands) -> None:
    hashing = commands.add_parser(
        "hash-password",
        help="make the password hash that rag serve --auth reads",
        description="Read a password (twice, not echoed) and print user:HASH for $VERBATIM_AUTH or --auth-file.",
    )
    hashing.add_argument("user", metavar="USER")
    hashing.set_defaults(run=_hash_password)


def _check_parser(commands) -> None:
    check = commands.add_parser(
        "check",
        help="read an index in full and report what is damaged",
        description="Check every file of the index against the checksums recorded when it was "
        "written, and every row, text and vector inside it. Changes nothing. Exit "
        "status 0: healthy; 1: damaged (the report says how to repair); 2: no index.",
    )
    check.add_argument(
        "--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="index to check (default: %(default)s)"
    )
    check.set_defaults(run=_check)


def _meta_parser(commands) -> None:
    meta = commands.add_parser(
        "meta",
        help="show or set an article's title, outlet, date, author and URL",
        description="Set what an article's text does not state (or states wrongly), then print its details. "
        "They are kept in the hidden .verbatim-meta.json of the article's folder, so a rebuild keeps them; "
        "the index is updated without embedding anything. An empty value clears what was set.",
    )
    meta.add_argument("file", metavar="FILE", help="the article: its path, or its id in the corpus")
    meta.add_argument(
        "--corpus", default=settings.get("CORPUS"), metavar="DIR", help="articles folder (default: %(default)s)"
    )
    meta.add_argument(
        "--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="index to update (default: %(default)s)"
    )
    for name, help_text in (
        ("title", "its headline"),
        ("outlet", "who published it, e.g. 'The Independent'"),
        ("published", "its date, YYYY-MM-DD"),
        ("author", "who wrote it"),
        ("url", "where it was published (http:// or https://)"),
    ):
        meta.add_argument(f"--{name}", default=None, metavar=name.upper(), help=help_text)
    meta.set_defaults(run=_meta)


def _meta(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .details import FIELDS
    from .library import set_details

    doc_id = _article_id(args.file, Path(args.corpus))
    fields = {name: getattr(args, name) for name in FIELDS}
    index_dir = args.index_dir if (Path(args.index_dir) / "COMMIT").is_file() else None
    meta, report = set_details(args.corpus, doc_id, index_dir=index_dir, **fields)
    for name, value in zip(FIELDS, meta.astuple()):
        print(f"{name + ':':11}{value if value is not None else '(unknown)'}")
    if report is not None and report.changed:
        print(f"{args.index_dir}: {report.summary()}", file=sys.stderr)
    return 0


def _article_id(file: str, corpus) -> str:
    """An article's id in the corpus: FILE as a path to it, else as its id."""
    from pathlib import Path

    path = Path(file)
    if path.exists():
        for inside, root in ((path.absolute(), corpus.absolute()), (path.resolve(), corpus.resolve())):
            if inside.is_relative_to(root):
                return inside.relative_to(root).as_posix()
        raise RagError(f"{file} is not inside the corpus folder {corpus} (name it with --corpus DIR)")
    return path.as_posix()


def _eval_parser(commands) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="score answers against a gold question file",
        description="Build or update the index of DIR, ask every gold question with each "
        "retriever, print a metrics table and optionally write JSON and a report. "
        "The gold format is described in eval/README.md.",
    )
    questions = evaluate.add_mutually_exclusive_group(required=True)
    questions.add_argument("--gold", metavar="FILE", help="gold questions (JSONL)")
    questions.add_argument(
        "--conversations",
        metavar="FILE",
        help="gold conversations (JSONL): follow-ups asked with history, alone and as their standalone versions",
    )
    evaluate.add_argument("--corpus", required=True, metavar="DIR", help="folder of the articles the gold file cites")
    evaluate.add_argument(
        "--index-dir",
        default=None,
        metavar="D",
        help="index to build or reuse (default: a cached index under index/eval/ for this corpus)",
    )
    evaluate.add_argument(
        "-k", type=int, default=5, metavar="N", help="passages retrieved for each answer (default: %(default)s)"
    )
    evaluate.add_argument(
        "--retriever",
        default="hybrid,dense,bm25",
        metavar="LIST",
        help="comma-separated retrievers to compare; the first is the main one (default: %(default)s)",
    )
    evaluate.add_argument("--json", metavar="OUT", help="write all metrics and per-question results as JSON")
    evaluate.add_argument("--report", metavar="OUT.md", help="write a Markdown report with PNG plots beside it")
    evaluate.add_argument("--title", default=None, help="report title (default: the corpus folder name)")
    evaluate.add_argument(
        "--baseline",
        metavar="OLD.json",
        default=None,
        help="the --json of an earlier run (e.g. the previous version's), shown beside this one in the report",
    )
    evaluate.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions")
    evaluate.add_argument("--sample", type=int, default=None, metavar="N", help="a random sample of N questions")
    evaluate.add_argument("--seed", type=int, default=0, help="seed for --sample (default: %(default)s)")
    evaluate.add_argument("--reader", default=None, metavar="DIR", help=READER_HELP)
    evaluate.set_defaults(run=_eval)


def _import_squad_parser(commands) -> None:
    squad = commands.add_parser(
        "import-squad",
        help="turn a SQuAD JSON file into article files and a gold file",
        description="Write OUTDIR/articles/*.txt (one per SQuAD article: title, then paragraphs "
        "separated by blank lines) and OUTDIR/gold.jsonl. SQuAD 2.0 impossible "
        "questions become unanswerable.",
    )
    squad.add_argument("squad_file", metavar="FILE")
    squad.add_argument("out_dir", metavar="OUTDIR")
    squad.set_defaults(run=_import_squad)


def _serve_parser(commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the web chat (and the JSON API) over a folder of articles",
        description="Build or update the index of the corpus (with progress on the terminal), "
        "then serve the web chat; with --api, the JSON API beside it (OpenAPI docs at /docs); with --ray, "
        "the JSON API on Ray Serve, with replicas and the index's shards as deployments.",
    )
    serve.add_argument(
        "--corpus", default=settings.get("CORPUS"), metavar="DIR", help="articles folder (default: %(default)s)"
    )
    serve.add_argument(
        "--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="index folder (default: %(default)s)"
    )
    serve.add_argument("--host", default=settings.get("HOST"), help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=int(settings.get("PORT")), help="port (default: %(default)s)")
    serve.add_argument("--reader", default=None, metavar="DIR", help=READER_HELP)
    locked = serve.add_mutually_exclusive_group()
    locked.add_argument(
        "--auth",
        action="store_true",
        help="adding and removing articles needs a login: users as user:HASH in $VERBATIM_AUTH (comma-separated) "
        "or --auth-file; make HASH with: rag hash-password",
    )
    locked.add_argument("--read-only", action="store_true", help="no one can add or remove articles here")
    serve.add_argument("--auth-file", default=None, metavar="FILE", help="user:HASH lines, for --auth")
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--api", action="store_true", help="serve the JSON API too, in this process (uvicorn)")
    mode.add_argument(
        "--ray",
        action="store_true",
        help="serve the JSON API on Ray Serve (pip install .[serve]): answering replicas, one deployment per shard",
    )
    serve.add_argument(
        "--address", default=None, help="with --ray: the Ray cluster to join (default: start a local one)"
    )
    serve.add_argument(
        "--replicas",
        default="1",
        metavar="N",
        help="with --ray: answering replicas, a number or 'auto' (1 to --max-replicas, scaled on queue length)",
    )
    serve.add_argument(
        "--max-replicas", type=int, default=4, metavar="N", help="with --replicas auto (default: %(default)s)"
    )
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    from .access import Access
    from .web import serve

    access = Access.configured(login=args.auth, read_only=args.read_only, auth_file=args.auth_file)
    if args.ray:
        from .serving import Replicas, serve_on_ray

        replicas = Replicas.parse(args.replicas, args.max_replicas)
        serve_on_ray(args.corpus, args.index_dir, args.host, args.port, replicas, args.address, args.reader, access)
        return 0
    serve(args.corpus, args.index_dir, args.host, args.port, reader=args.reader, access=access, api=args.api)
    return 0


def _index(args: argparse.Namespace) -> int:
    from .embedding import Embedder
    from .indexing import Indexer
    from .shards import ShardedIndexer, for_index

    if args.ray:
        from .distributed import RayIndexer

        indexer = RayIndexer(Embedder(args.model), address=None if args.ray == "local" else args.ray)
    else:
        indexer = Indexer(Embedder(args.model))
    indexer = ShardedIndexer(indexer, args.shards) if args.shards is not None else for_index(indexer, args.index_dir)
    report = indexer.run(args.corpus, args.index_dir, rebuild=args.rebuild, optimize=args.optimize, show_progress=True)
    print(f"{args.index_dir}: {report.summary()}")
    return 0


def _question_arguments(parser: argparse.ArgumentParser) -> None:
    """What `ask` and `chat` share: how many passages, which index, retriever and reader."""
    parser.add_argument("-k", type=int, default=5, metavar="N", help="passages to retrieve (default: %(default)s)")
    parser.add_argument(
        "--index-dir", default=DEFAULT_INDEX_DIR, metavar="D", help="index to ask (default: %(default)s)"
    )
    parser.add_argument("--retriever", default=None, choices=RETRIEVERS, help="retrieval mode (default: hybrid)")
    parser.add_argument("--reader", default=None, metavar="DIR", help=READER_HELP)


def _filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--after", metavar="DAY", help="only articles published on or after this day (3 Jan 2025 or 2025-01-03)"
    )
    parser.add_argument("--before", metavar="DAY", help="only articles published before this day")
    parser.add_argument(
        "--outlet", action="append", metavar="NAME", help="only articles of this outlet (repeat for several)"
    )


def _filters(args: argparse.Namespace) -> dict | None:
    found = {key: getattr(args, key) for key in ("after", "before", "outlet") if getattr(args, key)}
    return found or None


def _hash_password(args: argparse.Namespace) -> int:
    import getpass
    import sys

    from .access import hash_password

    if ":" in args.user or "," in args.user or not args.user.strip():
        raise RagError("the user name must not be empty or hold ':' or ','")
    read = getpass.getpass if sys.stdin.isatty() else (lambda _prompt: sys.stdin.readline().rstrip("\n"))
    password = read("password: ")
    if sys.stdin.isatty() and getpass.getpass("again: ") != password:
        raise RagError("the two passwords differ")
    if len(password) < 8:
        raise RagError("use a password of at least 8 characters")
    print(f"{args.user}:{hash_password(password)}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from .pipeline import check_question, load

    check_question(args.question)
    qa = load(args.index_dir, reader=args.reader)
    answer = qa.ask(args.question, k=args.k, retriever=args.retriever, filters=_filters(args))
    filtered = qa.filter_summary(_filters(args))
    if args.json:
        found = answer.to_dict()
        print(json.dumps({**found, "filtered": filtered} if filtered else found, ensure_ascii=False, indent=2))
        return 0
    if filtered:
        print(filtered)
    print(shown(answer))
    return 0


def _chat(args: argparse.Namespace) -> int:
    """A read–answer loop keeping the conversation's answers; a question's error is said and the chat goes on."""
    import readline  # noqa: F401 -- input() then edits lines and recalls earlier ones

    from .pipeline import load

    qa = load(args.index_dir, reader=args.reader)
    print("Ask about the articles. /new starts a new conversation, Ctrl-D leaves.")
    history = []
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        except KeyboardInterrupt:
            print()
            continue
        if question in ("/quit", "/exit"):
            return 0
        if question == "/new":
            history = []
            print("(a new conversation)")
            continue
        if not question:
            continue
        try:
            answer = qa.ask(question, k=args.k, retriever=args.retriever, history=history, filters=_filters(args))
        except RagError as exc:
            print(f"rag: {exc}")
            continue
        if answer.context:
            print(f"  ({answer.context.describe(len(history))})")
        print(shown(answer))
        history.append(answer)


def shown(answer) -> str:
    """An answer as `rag ask` and `rag chat` print it: its state in words (rag/states.py), then the quote with its
    citations and confidence, or the closest passages."""
    from .answers import named
    from .states import STATE_WORDS

    lines = [STATE_WORDS[answer.state]] if STATE_WORDS[answer.state] else []
    if answer.abstained:
        return "\n".join(
            [
                *lines,
                "",
                "Closest passages:",
                *(
                    f"  [{named(p.source, p.meta.outlet, p.meta.published, p.meta.title)}, chars {p.start}-{p.end}] {p.text[:160]}…"
                    for p in answer.passages
                ),
            ]
        )
    lines += [f"“{answer.text}”", *(f"  — {_cited(c)}" for c in answer.citations if c.agrees)]
    differing = [c for c in answer.citations if not c.agrees]
    if differing:
        lines += [
            "The articles differ:",
            *(
                f"  {named(c.source, c.meta.outlet, c.meta.published, c.meta.title)}: “{c.span.text if c.span else c.quote}” — {c.source}, line {c.line}"
                for c in answer.citations[:1] + differing
            ),
        ]
    return "\n".join([*lines, f"confidence {answer.confidence:.2f}"])


def _cited(citation) -> str:
    """“Title” · outlet · date · author — file, line, chars."""
    said = " · ".join(
        p
        for p in (
            f"“{citation.meta.title}”" if citation.meta.title else None,
            citation.meta.outlet,
            citation.date,
            citation.meta.author,
        )
        if p
    )
    where = f"page {citation.page}" if citation.page else f"line {citation.line}"
    return f"{said + ' — ' if said else ''}{citation.source}, {where}, chars {citation.start}-{citation.end}"


def _check(args: argparse.Namespace) -> int:
    from .check import IndexChecker
    from .shards import shard_dirs

    checks = [IndexChecker().run(d) for d in shard_dirs(args.index_dir) or [args.index_dir]]  # each shard in turn
    print("\n".join(line for check in checks for line in check.lines()))
    return 0 if all(check.ok for check in checks) else 1


def _eval_qa(args: argparse.Namespace):
    """The corpus's index, built or brought up to date (by default a cached one under index/eval/ per corpus folder)."""
    import hashlib
    from pathlib import Path

    from .pipeline import build

    corpus = Path(args.corpus).resolve()
    index_dir = args.index_dir or str(
        Path(DEFAULT_INDEX_DIR) / "eval" / f"{corpus.name}-{hashlib.sha1(str(corpus).encode()).hexdigest()[:8]}"
    )
    qa = build(corpus, index_dir=index_dir, show_progress=True, reader=args.reader)
    print(f"index {index_dir}: {qa.report.summary()}", file=sys.stderr)
    return qa


def _eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .evaluation import Evaluator, evaluation_json, load_gold, select, summarize
    from .indexing import progress_bar
    from .report import write_report

    if args.conversations:
        return _eval_conversations(args)
    baseline = _baseline(args.baseline) if args.baseline else None
    if baseline and not args.report:
        raise RagError("--baseline is shown in the report: give --report OUT.md too")
    retrievers = tuple(r.strip() for r in args.retriever.split(",") if r.strip())
    unknown = set(retrievers) - set(RETRIEVERS)
    if unknown or not retrievers:
        raise RagError(
            f"unknown retriever {', '.join(sorted(unknown)) or '(none)'}; choose from {', '.join(RETRIEVERS)}"
        )
    questions = select(load_gold(args.gold), args.limit, args.sample, args.seed)
    qa = _eval_qa(args)
    corpus = Path(args.corpus).resolve()
    with progress_bar(total=len(questions), unit="question", desc="evaluating") as bar:
        results = Evaluator(qa, k=args.k, retrievers=retrievers).run(questions, on_question=lambda: bar.update())
    confidence = qa.answer_builder.reader.confidence
    meta = {
        "gold": args.gold,
        "corpus": args.corpus,
        "k": args.k,
        "model": qa.store.model,
        "documents": qa.store.n_documents,
        "chunks": qa.store.n_chunks,
        "reader": str(qa.answer_builder.reader.path),
        "abstain_below": confidence.threshold,
        "answered_from": confidence.answered,
    }
    metrics = {name: summarize(rs) for name, rs in results.items()}
    _print_table(metrics)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(evaluation_json(results, metrics, args.k, meta), indent=1, ensure_ascii=False)
        )
        print(f"wrote {args.json}")
    if args.report:
        written = write_report(results, metrics, args.report, args.title or corpus.name, meta, baseline=baseline)
        print("wrote " + ", ".join(map(str, written)))
    return 0


def _baseline(path: str) -> dict:
    """An earlier `rag eval --json`, read before the evaluation starts so that a bad one fails at once."""
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data["questions"][data["retriever"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RagError(f"--baseline {path} is not the --json of a `rag eval --gold` run ({exc})") from exc
    return data


def _eval_conversations(args: argparse.Namespace) -> int:
    from pathlib import Path

    ignored = [
        f"--{name}"
        for name in ("report", "baseline", "limit", "sample", "title")
        if getattr(args, name, None) is not None
    ]
    if ignored:
        raise RagError(f"{', '.join(ignored)} go with --gold, not --conversations")

    from .evaluation import (
        ASKED,
        ConversationEvaluator,
        conversation_summary,
        load_conversations,
    )
    from .indexing import progress_bar

    conversations = load_conversations(args.conversations)
    qa = _eval_qa(args)
    evaluator, rows = ConversationEvaluator(qa, k=args.k), []
    with progress_bar(total=len(conversations), unit="conversation", desc="evaluating") as bar:
        for conversation in conversations:
            rows += evaluator.run([conversation])
            bar.update()
    summary = conversation_summary(rows)
    print(f"{len(conversations)} conversations, {len(rows)} turns")
    print(f"{'turns':<34}" + "".join(f"{asked:>20}" for asked in ASKED))
    for kind, figures in summary.items():
        if kind == "ask_ms_p50":
            continue
        for metric in figures[ASKED[0]]:
            print(
                f"{kind + ' ' + metric + ' (' + str(figures['n']) + ')':<34}"
                + "".join(f"{figures[a][metric]:>20}" for a in ASKED)
            )
    print(f"ask() p50 ms: with history {summary['ask_ms_p50']['with_history']}, alone {summary['ask_ms_p50']['alone']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {
                    "conversations": args.conversations,
                    "corpus": args.corpus,
                    "k": args.k,
                    "summary": summary,
                    "turns": rows,
                },
                indent=1,
                ensure_ascii=False,
            )
        )
        print(f"wrote {args.json}")
    return 0


def _print_table(metrics: dict[str, dict]) -> None:
    names = list(metrics)
    first = next(iter(metrics.values()))
    print(f"{first['n']} questions ({first['n_answerable']} answerable, {first['errors']} errors)")
    print(f"{'metric':<36}" + "".join(f"{name:>10}" for name in names))
    for group in ("retrieval", "answer", "citation", "abstain", "states", "selective", "latency_ms"):
        for key, value in ((k, v) for k, v in first[group].items() if not isinstance(v, list)):
            for part in value if isinstance(value, dict) else [None]:  # a state's share and how often it is right
                label = f"{group} {key}" + (f" {part}" if part else "")
                cells = [metrics[n][group][key][part] if part else metrics[n][group][key] for n in names]
                print(f"{label:<36}" + "".join(f"{str(c):>10}" for c in cells))


def _import_squad(args: argparse.Namespace) -> int:
    from .squad import import_squad

    articles, gold, n_articles, n_questions = import_squad(args.squad_file, args.out_dir)
    print(f"wrote {n_articles} articles to {articles} and {n_questions} questions to {gold}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (RagError, OSError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
