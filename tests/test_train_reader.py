"""Reader training (rag/training) teaches what the reader decodes: same windows, same softmax; its hard
"no answer" recipes take the fact out; a run continues from the shipped weights."""

import gzip
import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.reader import DEFAULT_READER, group_log_softmax
from rag.training.batching import collate, make_group
from rag.training.calibration import held_out_squad, sure_from
from rag.training.checkpoint import Progress
from rag.training.cli import main
from rag.training.data import Question, load_questions, mixed, respaced
from rag.training.followups import FollowUp
from rag.training.loop import BASE_MODEL, TrainingSettings, group_loss
from rag.training.no_answer import RECIPES, NegativeFinder, without_answer

CONTEXT = (
    "The harbour authority said on Tuesday that the new lighthouse at Port Ellen will be lit on the first of "
    "March, after two years of building work. Its keeper, Morag Campbell, will live in the old cottage."
)
SHE = CONTEXT + " She has kept the lights of Islay for twenty years."
OTHER = "The football club signed a new striker from Brazil on Tuesday, the favourite team of Ewan McGregor in Glasgow."


def question(text, answer=None, context=CONTEXT, everywhere=False):
    starts = tuple(i for i in range(len(context)) if context.startswith(answer, i)) if answer else ()
    return Question(
        "test",
        "port",
        context,
        text,
        starts if everywhere else starts[:1],
        answer or "",
        [answer] if answer else [],
        False,
    )


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(BASE_MODEL, local_files_only=True)


def group_for(tokenizer, q, others, share=0.0, recipes=RECIPES):
    finder = NegativeFinder([q, *others], 0)
    return make_group(tokenizer, q, finder, random.Random(0), share, recipes)


def test_an_answerable_group_marks_the_answer_tokens_in_its_first_window(tokenizer):
    group = group_for(
        tokenizer, question("When will the lighthouse be lit?", "the first of March"), [question("Who?", context=OTHER)]
    )
    first_start, first_end = group.gold_start[0].index(True), group.gold_end[0].index(True)
    assert tokenizer.decode(group.input_ids[0][first_start : first_end + 1]) == "the first of march"
    assert not any(group.gold_start[1]) and not any(group.gold_end[1]) and group.recipe is None
    assert group.valid[0][0] and group.valid[0][first_start] and not group.valid[0][1]  # [CLS] yes, question no


def test_an_answer_whose_offset_is_a_guess_is_gold_at_every_occurrence(tokenizer):
    context = "Tuesday was cold. The lighthouse was lit on Tuesday, and the harbour reopened on Friday."
    group = group_for(
        tokenizer,
        question("When was the lighthouse lit?", "Tuesday", context, everywhere=True),
        [question("Who?", context=OTHER)],
    )
    starts = [i for i, gold in enumerate(group.gold_start[0]) if gold]
    ends = [i for i, gold in enumerate(group.gold_end[0]) if gold]
    assert (
        len(starts) == 2
        and [tokenizer.decode(group.input_ids[0][a : b + 1]) for a, b in zip(starts, ends, strict=True)]
        == ["tuesday"] * 2
    )


@pytest.mark.parametrize("recipe", ["removed", "swapped", "other"])
def test_every_recipe_makes_a_no_answer_group_without_the_fact(tokenizer, recipe):
    answerable = question(
        "Where will Morag Campbell live?", "the old cottage", CONTEXT + " Visitors may climb the tower in summer."
    )
    others = [question("Who?", context=OTHER), question("What?", context=OTHER + " More.")]
    if recipe == "swapped":
        others.append(question("Who?", context="The new cottage belongs to Ewan McGregor."))
    group = group_for(tokenizer, answerable, others, share=1.0, recipes=(recipe,))
    assert group.recipe == recipe
    for starts, ends in zip(group.gold_start, group.gold_end, strict=True):
        assert starts == ends == [True] + [False] * (len(starts) - 1)  # [CLS] alone
    texts = [tokenizer.decode(ids) for ids in group.input_ids]
    if recipe == "removed":
        assert "lighthouse" in texts[0] and "old cottage" not in texts[0]
    elif recipe == "swapped":
        assert "morag campbell" not in texts[0].split("[SEP]")[0] and "old cottage" in texts[0]
    else:
        assert all("old cottage" not in t for t in texts)


def test_a_follow_up_group_reads_an_earlier_turns_words_in_brackets_and_keeps_its_own_answer(tokenizer):
    asked = question("Who will live in the old cottage?", "Morag Campbell")
    earlier = question("When will the lighthouse at Port Ellen be lit?", "the first of March")
    finder = NegativeFinder([asked, earlier, question("Who?", context=OTHER)], 0)
    carried = finder.carried(asked, random.Random(0))
    assert carried == "lighthouse Port Ellen lit first March"
    group = make_group(tokenizer, asked, finder, random.Random(0), 0.0, (), follow_share=1.0)
    start, end = group.gold_start[0].index(True), group.gold_end[0].index(True)
    assert group.followed and "lighthouse" in tokenizer.decode(group.input_ids[0][: group.token_type_ids[0].index(1)])
    assert tokenizer.decode(group.input_ids[0][start : end + 1]) == "morag campbell"
    assert (
        finder.carried(question("Who?", context=OTHER), random.Random(0)) is None
    )  # no other question of its paragraph
    swapped_finder = NegativeFinder(
        [
            question("Where will Morag Campbell live?", "the old cottage"),
            earlier,
            question("Who?", context="The new cottage belongs to Ewan McGregor."),
        ],
        0,
    )
    swapped = make_group(
        tokenizer,
        swapped_finder.asked[CONTEXT][0],
        swapped_finder,
        random.Random(0),
        1.0,
        ("swapped",),
        follow_share=1.0,
    )
    asked_text = tokenizer.decode(swapped.input_ids[0][: swapped.token_type_ids[0].index(1)])
    assert (
        swapped.recipe == "swapped"
        and swapped.followed
        and "ewan mcgregor" in asked_text
        and "lighthouse" in asked_text
    )


@pytest.mark.parametrize(
    "earlier, asked, made, kind",
    [
        (
            ("Who will keep the lighthouse?", "Morag Campbell"),
            "Where will Morag Campbell live?",
            "Where will she live?",
            "pronoun",
        ),
        (("Who will keep the lighthouse?", "Morag Campbell"), "Who chose Morag Campbell?", "Who chose her?", "pronoun"),
        (
            ("When will the lighthouse at Port Ellen be lit?", "the first of March"),
            "What was built at Port Ellen?",
            "What was built there?",
            "pronoun",
        ),
        (
            ("When will the lighthouse be lit?", "the first of March"),
            "Who designed the lighthouse?",
            "Who designed that?",
            "it",
        ),
        (
            ("When will the new lighthouse be lit?", "on the first of March"),
            "When will the new lighthouse be lit?",
            "When?",
            "bare",
        ),
        (
            ("Who will keep the lighthouse?", "Morag Campbell"),
            "What did the harbour authority say on Tuesday?",
            None,
            None,
        ),
        (
            ("When will the lighthouse be lit?", "the first of March"),
            "What did the lighthouse keeper earn?",
            None,
            None,
        ),  # not "it keeper"
        (
            ("When will the lighthouse be lit?", "the first of March"),
            "How tall is the lighthouse of Port Ellen?",
            None,
            None,
        ),
    ],
)
def test_a_question_is_cut_down_to_a_follow_up_of_an_earlier_one_as_people_ask_them(earlier, asked, made, kind):
    found = FollowUp.make(question(asked, context=SHE), question(*earlier, context=SHE), random.Random(0))
    assert (found and (found.question, found.kind)) == ((made, kind) if made else None)


QUEEN = (
    "The Queen visited Port Ellen in 1965 and she opened the new pier. She was greeted by crowds. She returned in 1972."
)
HE = CONTEXT + " Angus Reid built it. He has kept lights for years. He lives nearby."


@pytest.mark.parametrize(
    "context, earlier, asked, made",
    [
        (
            QUEEN,
            ("When did the Queen visit Port Ellen?", "1965"),
            "When was the Queen crowned?",
            "When was she crowned?",
        ),
        (
            HE,
            ("Who built the lighthouse?", "Angus Reid"),
            "When did the board replace Angus Reid in 1990?",
            "When did the board replace him in 1990?",
        ),
        (
            CONTEXT,
            ("Who owned the Houston Post?", "Bill Hobby"),
            "How many copies of the Houston Post were sold?",
            "How many copies of it were sold?",
        ),
        (
            CONTEXT,
            ("When will the lighthouse at Port Ellen be lit?", "the first of March"),
            "When was the name Port Ellen first used?",
            None,
        ),  # talked about, not pointed at (not "the name it")
        (
            CONTEXT,
            ("Who praised the author?", "the harbour authority"),
            "What was given to the author?",
            None,
        ),  # not "to it"
        (
            CONTEXT,
            ("Who was No-One but You dedicated to?", "Mercury"),
            "In what year did Queen release No-One but You",
            None,
        ),  # not "…No-One but it"
    ],
)
def test_a_made_follow_up_calls_someone_he_or_she_something_it_and_leaves_what_it_cannot_call(
    context, earlier, asked, made
):
    found = FollowUp.make(question(asked, context=context), question(*earlier, context=context), random.Random(0))
    assert (found and found.question) == made


def test_someone_whom_the_paragraph_does_not_call_he_or_she_is_not_made_it():
    found = FollowUp.make(
        question("Where will Morag Campbell live?"),
        question("Who will keep the lighthouse?", "Morag Campbell"),
        random.Random(0),
    )
    assert found is None  # "Where will it live?" was made before


def test_a_made_follow_up_group_reads_the_question_as_the_product_resolves_it_with_its_own_answer(tokenizer):
    asked = question("Where will Morag Campbell live?", "the old cottage", context=SHE)
    earlier = question("Who will keep the lighthouse?", "Morag Campbell", context=SHE)
    finder = NegativeFinder([asked, earlier, question("Who?", context=OTHER)], 0)
    assert (
        finder.followed(asked, random.Random(0)) == "Where will Morag Campbell live (keep lighthouse)?"
    )  # made: "…she live?"
    group = make_group(tokenizer, asked, finder, random.Random(0), 0.0, (), follow_share=1.0, follow_made=1.0)
    read = tokenizer.decode(group.input_ids[0][: group.token_type_ids[0].index(1)])
    start, end = group.gold_start[0].index(True), group.gold_end[0].index(True)
    assert group.followed and "where will morag campbell live ( keep lighthouse )" in read
    assert tokenizer.decode(group.input_ids[0][start : end + 1]) == "the old cottage"


def test_removing_the_answer_sentence_leaves_the_rest_exactly():
    q = question("Where will Morag Campbell live?", "the old cottage")
    assert without_answer(q) is None  # one sentence would be left: too little to stand for the paragraph
    longer = question(
        "Where will Morag Campbell live?", "the old cottage", CONTEXT + " Visitors may climb the tower in summer."
    )
    assert without_answer(longer) == CONTEXT.split(" Its keeper")[0] + " Visitors may climb the tower in summer."


def test_unanswerable_questions_point_at_every_cls(tokenizer):
    group = group_for(tokenizer, question("Who built the lighthouse?"), [question("Who?", context=OTHER)])
    for starts, ends in zip(group.gold_start, group.gold_end, strict=True):
        assert starts == ends == [True] + [False] * (len(starts) - 1)  # [CLS] alone


def test_training_loss_is_the_readers_shared_softmax(tokenizer):
    import torch

    answerable = question("When will the lighthouse be lit?", "the first of March")
    others = [question("Who?", context=OTHER)]
    groups = [
        group_for(tokenizer, answerable, others),
        group_for(tokenizer, question("Who built it, and when did the works start?"), others),
    ]
    batch = collate(groups)
    for gold in ("gold_start", "gold_end"):
        logits = torch.randn(batch["input_ids"].shape, generator=torch.Generator().manual_seed(len(gold)))
        loss = group_loss(logits, batch["valid"], batch[gold])
        expected = []
        for g in range(len(groups)):
            log_probs = group_log_softmax(logits[2 * g : 2 * g + 2].numpy(), batch["valid"][g].view(2, -1).numpy())
            golds = log_probs[batch[gold][g].view(2, -1).numpy()]
            expected.append(-np.logaddexp.reduce(golds))
        assert loss.item() == pytest.approx(float(np.mean(expected)), rel=1e-4)


def tiny_data(folder: Path) -> Path:
    """A qa-train folder of one SQuAD v2 file: 24 articles of two paragraphs, two questions each."""
    articles = []
    for n in range(24):
        first = f"The town of Alder{n} opened a bridge in {1900 + n}. Its mayor, Ann Reed{n}, cut the ribbon."
        second = f"The river under the bridge of Alder{n} floods in spring. Boats wait at the harbour of Bay{n}."
        articles.append(
            {
                "title": f"Alder{n}",
                "paragraphs": [
                    {
                        "context": first,
                        "qas": [
                            {
                                "id": f"{n}-a",
                                "question": f"When did Alder{n} open its bridge?",
                                "is_impossible": False,
                                "answers": [{"text": str(1900 + n), "answer_start": first.index(str(1900 + n))}],
                            }
                        ],
                    },
                    {
                        "context": second,
                        "qas": [
                            {
                                "id": f"{n}-b",
                                "question": f"When does the river of Alder{n} flood?",
                                "is_impossible": False,
                                "answers": [{"text": "in spring", "answer_start": second.index("in spring")}],
                            }
                        ],
                    },
                ],
            }
        )
    folder.mkdir()
    with gzip.open(folder / "tiny.json.gz", "wt") as f:
        json.dump({"version": "v2.0", "data": articles}, f)
    return folder


def test_a_tiny_run_continues_from_its_shipped_format_weights(tmp_path):
    from safetensors.numpy import load_file

    data, out = tiny_data(tmp_path / "data"), tmp_path / "reader"
    common = [
        "--data",
        str(data),
        "--out",
        str(out),
        "--batch-size",
        "2",
        "--save-every",
        "1",
        "--threads",
        "1",
        "--max-length",
        "64",
    ]
    main(["train", *common, "--max-steps", "2"])
    first = json.loads((out / "training.json").read_text())
    weights = load_file(out / "model.safetensors")
    assert first["step"] == 2 and first["steps"] == 23 and len(first["runs"]) == 1  # 46 training questions, 2 a step
    assert first["groups_seen"] == 4 and first["training_questions"] == 46
    assert {str(w.dtype) for w in weights.values()} == {"float16"}
    assert (
        (out / "calibration.json").is_file()
        and (out / "tokenizer.json").is_file()
        and "step 2" in (out / "README.md").read_text()
    )

    main(["train", *common, "--max-steps", "1"])
    second = json.loads((out / "training.json").read_text())
    assert second["step"] == 3 and [r["from_step"] for r in second["runs"]] == [0, 2]
    assert second["groups_seen"] == 6
    changed = load_file(out / "model.safetensors")
    assert any(not np.array_equal(weights[name], changed[name]) for name in weights)

    main(["train", *common, "--max-steps", "1", "--follow-share", "0.5"])  # asks follow-ups from here on
    third = json.loads((out / "training.json").read_text())
    assert third["step"] == 4 and [r["follow_share"] for r in third["runs"]] == [0.0, 0.0, 0.5]
    assert "| 3–4 | " in (card := (out / "README.md").read_text()) and card.split("| 3–4 | ")[1].split("\n")[
        0
    ].endswith("| 0.5 |")
    main(["train", *common, "--max-steps", "1"])  # and back to none
    assert [r["follow_share"] for r in json.loads((out / "training.json").read_text())["runs"]] == [0.0, 0.0, 0.5, 0.0]

    with pytest.raises(SystemExit, match="--restart"):
        main(["train", *common, "--max-steps", "1", "--lr", "0.001"])

    (out / "calibration-report.json").write_text("{}")  # a fit of the old weights
    main(["train", *common, "--max-steps", "1", "--restart"])
    afresh = json.loads((out / "training.json").read_text())
    assert afresh["step"] == 1 and len(afresh["runs"]) == 1 and not (out / "calibration-report.json").exists()
    assert json.loads((out / "calibration.json").read_text())["weights"] == {}

    tuned = (
        tmp_path / "tuned"
    )  # a second plan from these weights, with made follow-ups: the first plan's runs stay on record
    main(
        [
            "train",
            *common[:2],
            "--out",
            str(tuned),
            *common[4:],
            "--max-steps",
            "1",
            "--init",
            str(out),
            "--restart",
            "--lr",
            "0.00002",
            "--follow-share",
            "1.0",
            "--follow-made",
            "1.0",
        ]
    )
    second_plan = json.loads((tuned / "training.json").read_text())
    assert second_plan["init_training"]["step"] == 1 and second_plan["runs"][0]["follow_made"] == 1.0
    assert "| first plan 0–1 | " in (card := (tuned / "README.md").read_text()) and "| this plan 0–1 | " in card
    assert (
        card.split("| this plan 0–1 | ")[1].split("\n")[0].endswith("| 1.0 | 1.0 |")
        and "of them made follow-ups" in card
    )


def test_the_calibration_corpus_holds_each_kind_of_hard_no_answer_case():
    long = CONTEXT + " Visitors may climb the tower in summer."
    questions = [
        question(f"Where will Morag Campbell live? ({n})", "the old cottage", long.replace("summer", f"summer {n}"))
        for n in range(40)
    ] + [question("Who?", context=OTHER)]
    squad, kinds = held_out_squad(questions, 0, {"dropped": 0.3, "removed": 0.3, "swapped": 1.0})
    found = {kind.split(":")[0] for kind in kinds.values()}
    assert found == {"answerable", "dropped", "removed", "swapped", "unanswerable"}
    contexts = {qa["id"]: p["context"] for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]}
    for a in squad["data"]:
        for p in a["paragraphs"]:
            for qa in p["qas"]:
                kind = kinds[qa["id"]].split(":")[0]
                assert qa["is_impossible"] == (kind != "answerable")
                if kind == "answerable":
                    start = qa["answers"][0]["answer_start"]
                    assert p["context"][start : start + len("the old cottage")] == "the old cottage"
                elif kind == "dropped":
                    assert contexts[qa["id"]] == ""
                elif kind == "removed":
                    assert "old cottage" not in p["context"] and "lighthouse" in p["context"]
                elif kind == "swapped":
                    assert "Morag Campbell" not in qa["question"] and "old cottage" in p["context"]


def test_a_conversations_turn_is_read_as_the_product_reads_a_follow_up(tokenizer):
    history = (("Who keeps the lighthouse at Port Ellen?", "Morag Campbell"),)
    turn = replace(question("Where will she live?", "the old cottage"), history=history)
    finder = NegativeFinder([turn, question("Who?", context=OTHER)], 0)
    read = finder.read(turn)
    assert (
        read == "Where will Morag Campbell live (keeps lighthouse Port Ellen)?"
    )  # her name, the earlier words carried
    group = make_group(tokenizer, turn, finder, random.Random(0), 0.0)
    asked = tokenizer.encode(read, add_special_tokens=False)
    assert group.input_ids[0][1 : 1 + len(asked)] == asked
    start, end = group.gold_start[0].index(True), group.gold_end[0].index(True)
    assert tokenizer.decode(group.input_ids[0][start : end + 1]) == "the old cottage"
    assert (
        finder.read(question("Where will Morag Campbell live?", "the old cottage")) == "Where will Morag Campbell live?"
    )


def test_squad2_unanswerable_questions_are_respaced_and_cased_as_their_paragraph_writes_them():
    context = 'The phrase "51st state" is used of Puerto Rico by the United States press.'
    assert (
        respaced('what press uses the " 52nd state " of puerto rico ?', context)
        == 'What press uses the "52nd state" of Puerto Rico?'
    )
    assert (
        respaced("is the united states ' press the state 's ?", context) == "Is the United States ' press the state's?"
    )


def new_data(folder: Path) -> Path:
    """A SQuAD 1.1 article, SQuAD 2.0 unanswerable questions on its paragraph, a CoQA story and a CANARD file."""
    folder.mkdir()
    paragraph = "The lighthouse at Port Ellen was lit in March. Morag Campbell keeps it."
    files = {
        "squad1-train-rest.json.gz": {
            "data": [
                {
                    "title": f"T{n}",
                    "paragraphs": [
                        {
                            "context": f"{paragraph} ({n})",
                            "qas": [
                                {
                                    "id": f"a{n}",
                                    "question": "When was the lighthouse lit?",
                                    "answers": [{"text": "March", "answer_start": 40}],
                                }
                            ],
                        }
                    ],
                }
                for n in range(200)
            ]
        },
        "squad2-unanswerable.json.gz": {
            "data": [
                {
                    "title": f"T{n}",
                    "paragraphs": [
                        {
                            "context": f"{paragraph} ({n})",
                            "qas": [
                                {
                                    "id": f"u{n}",
                                    "question": "when was the lighthouse closed ?",
                                    "is_impossible": True,
                                    "answers": [],
                                    "paired_with": "when was the lighthouse lit?",
                                }
                            ],
                        }
                    ],
                }
                for n in range(200)
            ]
        },
        "coqa-train.json.gz": {
            "data": [
                {
                    "title": f"cnn/story{n}",
                    "source": "cnn",
                    "paragraphs": [
                        {
                            "context": f"{paragraph} [{n}]",
                            "qas": [
                                {
                                    "id": f"c{n}1",
                                    "question": "Who keeps it?",
                                    "turn": 1,
                                    "history": [],
                                    "kind": "span",
                                    "answers": [{"text": "Morag Campbell", "answer_start": 47}],
                                },
                                {
                                    "id": f"c{n}2",
                                    "question": "Is it lit?",
                                    "turn": 2,
                                    "history": [{"question": "Who keeps it?", "answer": "Morag Campbell"}],
                                    "kind": "yes",
                                    "answers": [],
                                },
                            ],
                        }
                    ],
                }
                for n in range(40)
            ]
        },
        "canard.json.gz": {"train": [{"question": "what team", "rewrite": "what team did he play for"}], "dev": []},
    }
    for name, data in files.items():
        with gzip.open(folder / name, "wt") as f:
            json.dump(data, f)
    return folder


def test_new_files_are_read_into_their_groups_and_unanswerable_questions_are_held_out_with_their_paragraph(tmp_path):
    questions = load_questions(new_data(tmp_path / "data"))
    assert {q.group for q in questions} == {"replay", "squad2-unanswerable", "coqa-cnn"}  # CANARD has no passages
    assert all(q.question != "Is it lit?" for q in questions)  # a yes / no answer is no span
    split = {q.context: (q.held_out, q.evaluated) for q in questions if q.group == "replay"}
    unanswerable = [q for q in questions if q.group == "squad2-unanswerable"]
    assert all((q.held_out, q.evaluated) == split[q.context] and not q.answerable for q in unanswerable)
    assert any(q.held_out for q in questions) and any(q.evaluated for q in questions)
    assert unanswerable[0].question == "When was the lighthouse closed?"
    taken = mixed(questions, {"coqa-cnn": 3, "replay": 1})
    assert (
        taken == [q for q in questions if q.group == "coqa-cnn"][:3] + [q for q in questions if q.group == "replay"][:1]
    )  # file order


def test_answers_are_sure_from_the_lowest_confidence_where_the_answers_above_are_precise_enough():
    confidence = np.linspace(1.0, 0.0, 100)
    right = np.array([True] * 60 + [False, True] * 20)  # right down to 0.4, then one in two
    sure = sure_from(confidence, right, 0.95)
    above = confidence >= sure
    assert right[above].mean() >= 0.95 and sure == confidence[65]  # 63 of the top 66 right; of the top 68, 64
    assert sure_from(confidence, np.zeros(100, bool), 0.95) == 1.0  # never sure


def test_a_new_plan_continues_from_the_shipped_reader_on_a_mix_and_resumes(tmp_path):
    """Reader v3's way: a plan started from the shipped reader on a mix of the new files, stopped, then run again."""
    from safetensors.numpy import load_file

    data, out = new_data(tmp_path / "data"), tmp_path / "v3"
    plan = [
        "--data",
        str(data),
        "--out",
        str(out),
        "--init",
        str(DEFAULT_READER),
        "--batch-size",
        "2",
        "--save-every",
        "1",
        "--threads",
        "1",
        "--max-length",
        "64",
        "--mix",
        "replay=4,squad2-unanswerable=4,coqa-cnn=4",
    ]
    main(["train", *plan, "--max-steps", "2"])  # the first step's rate is 0: the warm-up starts there
    first = json.loads((out / "training.json").read_text())
    assert first["step"] == 2 and first["steps"] == 6 and first["training_questions"] == 12
    assert first["settings"]["mix"] == {"replay": 4, "squad2-unanswerable": 4, "coqa-cnn": 4}
    assert first["init_training"]["step"] == json.loads((DEFAULT_READER / "training.json").read_text())["step"]
    shipped, started = load_file(DEFAULT_READER / "model.safetensors"), load_file(out / "model.safetensors")
    assert any(
        not np.array_equal(shipped[name], started[name]) for name in shipped
    )  # trained from the shipped weights…
    assert all(
        np.abs(shipped[name].astype(float) - started[name].astype(float)).max() < 0.05 for name in shipped
    )  # …two steps on
    main(["train", *plan, "--max-steps", "1"])
    second = json.loads((out / "training.json").read_text())
    assert second["step"] == 3 and [r["from_step"] for r in second["runs"]] == [0, 2]
    card = (out / "README.md").read_text()
    assert '"coqa-cnn": 4' in card and "CoQA" in card
    assert (
        "python -m rag.training train --init rag/models/reader --out DIR --mix replay=4,squad2-unanswerable=4,coqa-cnn=4 "
        "--null-share 0.3 --lr 0.0001" in card
    )


def test_train_with_the_default_settings_resumes_the_shipped_reader_where_it_stands(tmp_path):
    shipped = json.loads((DEFAULT_READER / "training.json").read_text())
    (tmp_path / "training.json").write_text(
        json.dumps(shipped)
    )  # a copy: a plan that did not resume would start afresh there
    (tmp_path / "model.safetensors").touch()
    progress = Progress.open(tmp_path, TrainingSettings(out=tmp_path).recorded(), restart=False, init=None)
    assert progress.resumed and progress.step == shipped["step"] and progress.recipes_seen == shipped["recipes_seen"]
    assert [r["to_step"] for r in progress.runs] == [r["to_step"] for r in shipped["runs"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors", "training.json"]  # nothing written


def test_squad2_unanswerable_questions_join_their_paragraphs_article_in_the_calibration_corpus():
    other = CONTEXT.replace("Port Ellen", "Bowmore")
    asked = question("Where will Morag Campbell live?", "the old cottage")
    lonely = [
        replace(question("When was the lighthouse closed?", context=c), source="squad2-unanswerable.json.gz")
        for c in (CONTEXT, other)
    ]  # one beside its paragraph's answerable question, one alone
    squad, kinds = held_out_squad(
        [*lonely, asked, question("Who?", context=OTHER)], 0, {"dropped": 0.0, "removed": 0.0, "swapped": 0.0}
    )
    ids = [qa["id"] for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]]
    assert len(ids) == len(set(ids)) == 4 and sorted(kinds.values()).count("unanswerable:squad2-unanswerable") == 2
    together = next(p for a in squad["data"] for p in a["paragraphs"] if p["context"] == CONTEXT)
    assert {qa["question"] for qa in together["qas"]} == {
        "Where will Morag Campbell live?",
        "When was the lighthouse closed?",
    }


def test_importing_the_training_package_loads_neither_torch_nor_transformers_nor_scikit_learn():
    code = "import sys, rag, rag.training; print(sorted({'torch', 'transformers', 'sklearn'} & set(sys.modules)))"
    root = Path(__file__).resolve().parent.parent  # "-c" reads this checkout's rag first
    assert (
        subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
        == "[]\n"
    )
