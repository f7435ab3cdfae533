"""Small rule-critic runs for the training tests (seconds each)."""

from pathlib import Path

import yaml

PILOT = Path(__file__).resolve().parents[2] / "fairmarket_local" / "scenarios" / "pilot.yaml"


def rule_scenario(folder: Path, **training) -> Path:
    """The pilot scenario with the rule critic and ``training`` settings, as a YAML file in ``folder``."""
    data = yaml.safe_load(PILOT.read_text())
    data["training"].update(training)
    data["critic"] = {"model": "rule"}
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def before_episode(monkeypatch, episode: int, action) -> None:
    """Call ``action()`` when training is about to run ``episode`` (1-based)."""
    from fairmarket_local.training.trainer import Trainer

    real = Trainer.run_episode

    def run(self):
        if self.episode == episode - 1:
            action()
        return real(self)

    monkeypatch.setattr(Trainer, "run_episode", run)


def stop_in_episode(monkeypatch, episode: int) -> None:
    """Make training raise ``FairmarketError("stopped")`` when it starts ``episode``."""
    from fairmarket_local.common.errors import FairmarketError

    def stop():
        raise FairmarketError("stopped")

    before_episode(monkeypatch, episode, stop)
