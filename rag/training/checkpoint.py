"""The shipped reader folder as the training checkpoint: fp16 weights and training.json, which names the plan's
settings and position, so a run continues from the shipped weights on this machine or another."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.confidence import Confidence
from rag.files import write_atomically


def plan_of(settings: dict) -> dict:
    """The settings a resumed run must share with the weights it continues: all but `follow_share` and `follow_made`,
    which only change how a group's question is asked (each run in training.json records its own; `settings` the last run's)."""
    return {k: v for k, v in settings.items() if k not in ("follow_share", "follow_made")}


@dataclass
class Progress:
    """Where a plan stands, carried from run to run in training.json: the step, the runs before this one, the groups
    read by recipe and as follow-ups, and the first plan's training.json where this plan started from its reader."""

    resumed: bool
    step: int = 0
    runs: list[dict] = field(default_factory=list)
    recipes_seen: dict[str, int] = field(default_factory=dict)
    followed_seen: int = 0
    parent: dict | None = None

    @classmethod
    def open(cls, out: Path, settings: dict, restart: bool, init: str | None) -> Progress:
        """The progress of the plan in `out` when it has the same settings (and `restart` is not asked), else a new
        plan's, whose new weights make `out`'s confidence model void. A reader of other settings is never replaced
        unasked."""
        shipped = json.loads((out / "training.json").read_text()) if (out / "training.json").is_file() else {}
        resume = (
            not restart
            and plan_of(shipped.get("settings", {})) == plan_of(settings)
            and (out / "model.safetensors").is_file()
        )
        if shipped and not resume and not restart:
            raise SystemExit(
                f"{out} holds a reader trained with settings {shipped.get('settings')}, not {settings}: "
                "resume with the same settings (--follow-share and --follow-made may differ), or pass --restart to train afresh from the base model"
            )
        if not resume:
            out.mkdir(parents=True, exist_ok=True)
            Confidence().save(out / "calibration.json")
            (out / "calibration-report.json").unlink(missing_ok=True)
            first = Path(init) / "training.json" if init else None
            parent = (
                {k: v for k, v in json.loads(first.read_text()).items() if k != "init_training"}
                if first and first.is_file()
                else None
            )
            return cls(False, parent=parent)
        runs = shipped.get("runs", [])
        if not any(
            "follow_share" in r for r in runs
        ):  # written before runs recorded it: the plan's share was every run's
            runs = [r | {"follow_share": shipped["settings"].get("follow_share", 0.0)} for r in runs]
        return cls(
            True,
            shipped["step"],
            runs,
            dict(shipped.get("recipes_seen", {})),
            shipped.get("followed_seen", 0),
            shipped.get("init_training"),
        )

    def count(self, groups: list) -> None:
        """Counts a batch's groups by recipe ("answer" for none) and as follow-ups."""
        for g in groups:
            self.recipes_seen[g.recipe or "answer"] = self.recipes_seen.get(g.recipe or "answer", 0) + 1
        self.followed_seen += sum(g.followed for g in groups)

    def training(self, settings: dict, steps: int, questions: int, loss: float, run: dict, seconds: float) -> dict:
        """training.json at this step, `run` (this run so far, `seconds` long) after the earlier runs."""
        return {
            "settings": settings,
            "step": self.step,
            "steps": steps,
            "training_questions": questions,
            "groups_seen": sum(self.recipes_seen.values()),
            "recipes_seen": self.recipes_seen,
            **({"followed_seen": self.followed_seen} if self.followed_seen else {}),
            "loss": round(loss, 4),
            "train_seconds": round(sum(r["seconds"] for r in self.runs) + seconds, 1),
            "runs": [*self.runs, run],
            **({"init_training": self.parent} if self.parent else {}),
        }


def save(model, tokenizer, out: Path, training: dict) -> None:
    """The shipped format: fp16 safetensors, config and tokenizer, and training.json last (it names the step)."""
    from safetensors.torch import save

    out.mkdir(parents=True, exist_ok=True)
    if not (out / "calibration.json").is_file():  # until `calibrate`: an uninformed confidence that never abstains
        Confidence().save(out / "calibration.json")
    weights = {k: v.detach().to("cpu", copy=True).half().contiguous() for k, v in model.state_dict().items()}
    write_atomically(out / "model.safetensors", save(weights, metadata={"format": "pt"}))
    model.config.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_atomically(out / "training.json", json.dumps(training, indent=2) + "\n")
