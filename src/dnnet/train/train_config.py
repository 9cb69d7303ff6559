"""`TrainConfig` lives in `dnnet.runs.train_config`, beside the run record that every reader of a run parses it from;
its names stay importable from here (`from dnnet.train.train_config import TrainConfig, PAPER_RECIPE`)."""

from dnnet.runs.train_config import (
    BEFORE_THE_SETTING_EXISTED,
    COMPILE_MODES,
    LOSS_SCALES,
    OBJECTIVES,
    PAPER_RECIPE,
    RECIPES,
    SAME_AS_AUXILIARY,
    SCHEDULES,
    TrainConfig,
)

__all__ = ["BEFORE_THE_SETTING_EXISTED", "COMPILE_MODES", "LOSS_SCALES", "OBJECTIVES", "PAPER_RECIPE", "RECIPES",
           "SAME_AS_AUXILIARY", "SCHEDULES", "TrainConfig"]
