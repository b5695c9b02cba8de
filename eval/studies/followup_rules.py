"""Do the follow-up rules of rag/conversation.py still earn their place once the reader has learned from real
conversations? Every conversation asked turn by turn with the product's own answers as history, four ways in one
run: the rules as shipped; carrying the last answered turn's words into every later question (no pronoun or ellipsis
rules, no deciding whether a question stands alone); the words a model fit on CANARD says a follow-up needs
(eval/studies/canard_selector.py); and no history at all (each turn's "alone" figure).

    python -m eval.studies.followup_rules --reader rag/models/reader [--sets conversations,coqa-cnn,doqa]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from eval.studies.canard_selector import CanardResolver, fitted
from eval.studies.trust import CONVERSATION_SETS, conversation_figures, opened, table
from rag.conversation import Context, FollowUpResolver, with_carried
from rag.embedding import Embedder
from rag.evaluation import ConversationEvaluator, conversation_summary, load_conversations
from rag.reader import DEFAULT_READER, Reader, cpu_flags


class CarryingResolver(FollowUpResolver):
    """Every question after the first read with the last answered turn's words in brackets, and nothing else."""

    def run(self, question: str, history: list) -> Context | None:
        if not history:
            return None
        index = max((i for i, t in enumerate(history) if t.answer), default=len(history) - 1)
        last = history[index]
        carried = self.carried(last, question)
        return Context(
            with_carried(question, carried), self._about(last), index, "carried", last.source, last.offset, carried
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", default=str(DEFAULT_READER))
    parser.add_argument("--sets", default=",".join(CONVERSATION_SETS))
    args = parser.parse_args(argv)
    reader = Reader(Path(args.reader).expanduser())
    embedder = Embedder()
    selector = fitted()
    print(cpu_flags())
    for name in args.sets.split(","):
        conversations, corpus = CONVERSATION_SETS[name]
        if not conversations.is_file():
            print(f"{name}: {conversations} is missing (python -m eval.studies.held_out makes it); skipped")
            continue
        qa = opened(corpus, {"reader": reader}, embedder)["reader"]
        figures = {}
        for way, resolver in (
            ("rules", FollowUpResolver()),
            ("carry last turn", CarryingResolver()),
            ("CANARD selector", CanardResolver(selector)),
        ):
            qa.resolver = resolver
            summary = conversation_summary(
                ConversationEvaluator(qa, ways=("with_history", "alone")).run(load_conversations(conversations))
            )
            figures[way] = conversation_figures(summary)
        print(table(name, figures), flush=True)


if __name__ == "__main__":
    main()
