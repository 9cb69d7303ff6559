"""Training runs: config, epochs, checkpoints, metrics, distributed processes."""

from dnnet.runs.train_config import TrainConfig
from dnnet.train.run import Interrupted, NonFiniteLoss, train

__all__ = ["Interrupted", "NonFiniteLoss", "TrainConfig", "train"]
