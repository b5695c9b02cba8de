"""Training groups (a question's two windows under one softmax), the seeded plan of batches, and their tensors."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from rag.conversation import with_carried
from rag.reader import MAX_ANSWER_TOKENS, Windows, encode

from .data import Question
from .no_answer import RECIPES, NegativeFinder, without_answer

TRAIN_MAX_LENGTH, TRAIN_STRIDE = 128, 48  # training windows: shorter than the reader's, faster to train on


@dataclass
class Group:
    """Two windows read together under one softmax: the gold positions are the answer's first and last
    token, or every [CLS] when neither window answers the question. `recipe`: how a no-answer group was made."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    valid: list[list[bool]]
    gold_start: list[list[bool]]
    gold_end: list[list[bool]]
    recipe: str | None = None
    followed: bool = False  # asked as a follow-up


def make_group(
    tokenizer,
    q: Question,
    negatives: NegativeFinder,
    rng: random.Random,
    null_share: float,
    recipes: tuple[str, ...] = RECIPES,
    max_length: int = TRAIN_MAX_LENGTH,
    stride: int = TRAIN_STRIDE,
    follow_share: float = 0.0,
    follow_made: float = 0.0,
) -> Group | None:
    """One training group: an answerable question's answer window + a hard negative; an unanswerable
    question's paragraph + a hard negative; or, for `null_share` of the answerable ones, a no-answer case
    made by one of `recipes`, paired with a hard negative. `follow_share` of the groups ask their question as a
    follow-up (_asked_as_follow_up). None when the answer fits no window."""
    hard = negatives.paragraph(q, {q.context}, rng)
    question, passages, recipe = _no_answer_case(q, negatives, rng, hard, null_share, recipes)
    followed = _asked_as_follow_up(q, question, recipe, negatives, rng, follow_share, follow_made)
    windows = encode(tokenizer, followed or question, passages, max_length, stride)
    chosen = _chosen_windows(windows, q, recipe, rng)
    if chosen is None:
        return None
    return _group(windows, *chosen, recipe, bool(followed))


def _no_answer_case(
    q: Question, negatives: NegativeFinder, rng: random.Random, hard: str, null_share: float, recipes: tuple[str, ...]
) -> tuple[str, list[str], str | None]:
    """The question as read, its two passages and the recipe: for `null_share` of the answerable questions a
    no-answer case ("removed": its paragraph without the answer's sentence; "swapped": the question about another
    name of the article; "other": two other paragraphs, also where the first two do not apply)."""
    question, passages, recipe = negatives.read(q), [q.context, hard], None
    if q.answerable and recipes and rng.random() < null_share:
        recipe = rng.choice(recipes)
        if recipe == "removed" and (cut := without_answer(q)):
            passages = [cut, hard]
        elif recipe == "swapped" and not q.history and (other := negatives.swapped(q, rng)):
            question = other
        else:
            recipe, passages = "other", [hard, negatives.paragraph(q, {q.context, hard}, rng)]
    return question, passages, recipe


def _asked_as_follow_up(
    q: Question,
    question: str,
    recipe: str | None,
    negatives: NegativeFinder,
    rng: random.Random,
    follow_share: float,
    follow_made: float,
) -> str | None:
    """For `follow_share` of the questions outside conversations, `question` asked as a follow-up with an earlier
    turn's words in brackets (NegativeFinder.carried); `follow_made` of those (never swapped ones) first cut down to a
    follow-up that needs the earlier turn (NegativeFinder.followed), where the question lends itself to one."""
    if not (follow_share and not q.history and rng.random() < follow_share):
        return None
    made = negatives.followed(q, rng) if recipe != "swapped" and follow_made and rng.random() < follow_made else None
    return made or ((carried := negatives.carried(q, rng)) and with_carried(question, carried))


def _chosen_windows(
    windows: Windows, q: Question, recipe: str | None, rng: random.Random
) -> tuple[list[int], list[tuple[int, int]]] | None:
    """The group's two windows (one of the first passage, then the negative) and the answer's token positions in
    the first; no positions for a no-answer group; None when no window holds the whole answer."""
    first, rest = np.flatnonzero(windows.passage == 0), np.flatnonzero(windows.passage == 1)
    if recipe or not q.answerable:
        return [int(rng.choice(first)), int(rng.choice(rest))], []
    spans = [(s, s + len(q.answer_text)) for s in q.answer_starts]
    holding = {
        int(w): found for w in first if (found := [t for s, e in spans if (t := _answer_tokens(windows, int(w), s, e))])
    }
    if not holding:
        return None
    w = rng.choice(sorted(holding))
    lacking = [int(x) for x in first if int(x) not in holding] + [int(x) for x in rest]
    return [w, int(rng.choice(lacking))], holding[w]


def _answer_tokens(windows: Windows, w: int, start: int, end: int) -> tuple[int, int] | None:
    """Token positions of the answer's first and last token in window w, or None when it is not all inside."""
    offsets = windows.offsets[w]
    inside = offsets[:, 0] >= 0
    starts = np.flatnonzero(inside & (offsets[:, 0] <= start) & (offsets[:, 1] > start))
    ends = np.flatnonzero(inside & (offsets[:, 0] < end) & (offsets[:, 1] >= end))
    if not len(starts) or not len(ends) or ends[0] < starts[0] or ends[0] - starts[0] >= MAX_ANSWER_TOKENS:
        return None
    return int(starts[0]), int(ends[0])


def _group(
    windows: Windows, chosen: list[int], golds: list[tuple[int, int]], recipe: str | None, followed: bool
) -> Group:
    """The chosen windows unpadded, gold at the answer's tokens in the first, else at every [CLS]."""
    group = Group([], [], [], [], [], recipe, followed)
    for i, w in enumerate(chosen):
        n = int(windows.attention_mask[w].sum())
        group.input_ids.append(windows.input_ids[w, :n].tolist())
        group.token_type_ids.append(windows.token_type_ids[w, :n].tolist())
        group.valid.append(windows.valid[w, :n].tolist())
        gold_start, gold_end = [False] * n, [False] * n
        for start, end in golds if i == 0 else []:
            gold_start[start] = gold_end[end] = True
        if not golds:
            gold_start[0] = gold_end[0] = True
        group.gold_start.append(gold_start)
        group.gold_end.append(gold_end)
    return group


def batches(questions: list[Question], batch_size: int, seed: int) -> list[list[int]]:
    """Question indices in batches of similar length (less padding: windows are padded to the longest of a
    batch), in a seeded random order; the plan a resumed run continues from its recorded position."""
    rng = random.Random(seed)
    order = list(range(len(questions)))
    rng.shuffle(order)
    length = lambda i: min(len(questions[i].context), 4 * TRAIN_MAX_LENGTH)  # noqa: E731 -- characters, capped at a window
    pool = batch_size * 50
    result = []
    for at in range(0, len(order), pool):
        block = sorted(order[at : at + pool], key=length)
        result += [block[i : i + batch_size] for i in range(0, len(block), batch_size)]
    rng.shuffle(result)
    return result


def collate(groups: list[Group]):
    """Tensors [2B, L] for the model and [B, 2L] masks for the per-group softmax."""
    import torch

    width = max(len(ids) for g in groups for ids in g.input_ids)

    def pad(rows, value):
        return [row + [value] * (width - len(row)) for row in rows]

    def stacked(field, value, dtype):
        return torch.tensor([pad(getattr(g, field), value) for g in groups], dtype=dtype)

    ids = stacked("input_ids", 0, torch.long)
    return {
        "input_ids": ids.view(-1, width),
        "attention_mask": (ids != 0).long().view(-1, width),
        "token_type_ids": stacked("token_type_ids", 0, torch.long).view(-1, width),
        "valid": stacked("valid", False, torch.bool).view(len(groups), -1),
        "gold_start": stacked("gold_start", False, torch.bool).view(len(groups), -1),
        "gold_end": stacked("gold_end", False, torch.bool).view(len(groups), -1),
    }
