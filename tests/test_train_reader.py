"""The training script (models/train_reader.py) teaches what the reader decodes: same windows, same softmax."""

import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))

import train_reader  # noqa: E402
from rag.reader import group_log_softmax  # noqa: E402

CONTEXT = ("The harbour authority said on Tuesday that the new lighthouse at Port Ellen will be lit on the first of "
           "March, after two years of building work.")
OTHER = "The football club signed a new striker from Brazil on Tuesday, the lighthouse keeper's favourite team."


def question(text, answer=None, context=CONTEXT):
    start = context.index(answer) if answer else None
    return train_reader.Question("test", "port", context, text, start, answer or "", [answer] if answer else [], False)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(train_reader.BASE_MODEL, local_files_only=True)


def test_an_answerable_group_marks_the_answer_tokens_in_its_first_window(tokenizer):
    q = question("When will the lighthouse be lit?", "the first of March")
    group = train_reader.make_group(tokenizer, q, train_reader.NegativeFinder([q, question("Who?", context=OTHER)], 0),
                                    random.Random(0), null_share=0.0)
    first_start, first_end = group.gold_start[0].index(True), group.gold_end[0].index(True)
    assert tokenizer.decode(group.input_ids[0][first_start : first_end + 1]) == "the first of march"
    assert not any(group.gold_start[1]) and not any(group.gold_end[1])
    assert group.valid[0][0] and group.valid[0][first_start] and not group.valid[0][1]  # [CLS] yes, question no


def test_unanswerable_and_made_unanswerable_groups_point_at_every_cls(tokenizer):
    answerable = question("When will the lighthouse be lit?", "the first of March")
    finder = train_reader.NegativeFinder([answerable, question("Who?", context=OTHER), question("What?", context=OTHER + " More.")], 0)
    for q, share in ((question("Who built the lighthouse?"), 0.0), (answerable, 1.0)):
        group = train_reader.make_group(tokenizer, q, finder, random.Random(0), null_share=share)
        for starts, ends in zip(group.gold_start, group.gold_end):
            assert starts[0] and ends[0] and sum(starts) == sum(ends) == 1
        if q is answerable:
            assert all("first of march" not in tokenizer.decode(ids) for ids in group.input_ids)


def test_training_loss_is_the_readers_shared_softmax(tokenizer):
    import torch

    answerable = question("When will the lighthouse be lit?", "the first of March")
    finder = train_reader.NegativeFinder([answerable, question("Who?", context=OTHER)], 0)
    groups = [train_reader.make_group(tokenizer, answerable, finder, random.Random(0), null_share=0.0),
              train_reader.make_group(tokenizer, question("Who built it, and when did the works start?"), finder, random.Random(0), 0.0)]
    batch = train_reader.collate(groups)
    for gold in ("gold_start", "gold_end"):
        logits = torch.randn(batch["input_ids"].shape, generator=torch.Generator().manual_seed(len(gold)))
        loss = train_reader.group_loss(logits, batch["valid"], batch[gold])
        expected = []
        for g in range(len(groups)):
            log_probs = group_log_softmax(logits[2 * g : 2 * g + 2].numpy(), batch["valid"][g].view(2, -1).numpy())
            golds = log_probs[batch[gold][g].view(2, -1).numpy()]
            expected.append(-np.logaddexp.reduce(golds))
        assert loss.item() == pytest.approx(float(np.mean(expected)), rel=1e-4)
