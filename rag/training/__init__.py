"""Training of the shipped reader (rag/models/reader) and the fit of its confidence model: `python -m rag.training`.

torch, transformers and scikit-learn are imported only inside the functions that need them."""

from .batching import TRAIN_MAX_LENGTH, TRAIN_STRIDE, Group, batches, collate, make_group
from .calibration import CalibrationSettings, calibrate, held_out_squad, sure_from
from .card import write_card
from .checkpoint import Progress, plan_of, save
from .data import HELD_OUT, NEW_SOURCES, SHARED, Question, load_questions, mixed, parse_mix, respaced, split_of
from .followups import FollowUp, FollowUps
from .loop import BASE_MODEL, TrainingSettings, group_loss, train, training_questions
from .no_answer import RECIPES, NegativeFinder, without_answer

__all__ = [
    "BASE_MODEL",
    "HELD_OUT",
    "NEW_SOURCES",
    "RECIPES",
    "SHARED",
    "TRAIN_MAX_LENGTH",
    "TRAIN_STRIDE",
    "CalibrationSettings",
    "FollowUp",
    "FollowUps",
    "Group",
    "NegativeFinder",
    "Progress",
    "Question",
    "TrainingSettings",
    "batches",
    "calibrate",
    "collate",
    "group_loss",
    "held_out_squad",
    "load_questions",
    "make_group",
    "mixed",
    "parse_mix",
    "plan_of",
    "respaced",
    "save",
    "split_of",
    "sure_from",
    "train",
    "training_questions",
    "without_answer",
    "write_card",
]
