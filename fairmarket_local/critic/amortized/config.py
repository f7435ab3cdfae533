"""Settings of the amortized critic: the ``critic.amortize`` section of a scenario."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AmortizeConfig(BaseModel):
    """A teacher critic labels a budget of slots; a learned fairness model scores every slot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    label_budget: int = Field(300, ge=1, description="slots the teacher labels in the whole run")
    warmup_labels: int = Field(40, ge=1, description="labelled first, drawn at random (seeded)")
    labels_per_episode: float = Field(2.0, gt=0.0, description="labels asked per scoring call after the warm-up; a"
                                      " fraction is drawn (0.5: one label every other episode on average)")
    random_share: float = Field(0.25, ge=0.0, le=1.0, description="of those, drawn at random (coverage)")
    ensemble: int = Field(3, ge=2, description="seeded members; their spread picks the next labels")
    hidden: int = Field(32, ge=4)
    learning_rate: float = Field(1e-2, gt=0.0)
    fit_steps: int = Field(100, ge=1, description="optimiser steps after new labels (from the current weights)")
    full_fit_steps: int = Field(1000, ge=1, description="steps from fresh weights, whenever the labels have grown by"
                                                        " fresh_fit_growth and when the budget is spent")
    fresh_fit_growth: float = Field(1.25, gt=1.0, description="label growth factor between fresh-weight fits")
    prequential_window: int = Field(100, ge=2, description="latest predicted-then-labelled slots in the running"
                                                            " MAE and Spearman")
    heldout: int = Field(100, ge=0, description="unlabelled slots the teacher scores at the end")

    @model_validator(mode="after")
    def _warmup_fits_the_budget(self) -> AmortizeConfig:
        if self.warmup_labels > self.label_budget:
            raise ValueError(f"warmup_labels ({self.warmup_labels}) exceeds label_budget ({self.label_budget})")
        return self
