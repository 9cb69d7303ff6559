"""Training runs: config, epochs, checkpoints, metrics, distributed processes."""

from dnnet.train.run import Interrupted, NonFiniteLoss, train
from dnnet.train.train_config import TrainConfig

__all__ = ["Interrupted", "NonFiniteLoss", "TrainConfig", "train"]
