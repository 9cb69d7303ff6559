"""The joint loss over all sub-networks and its cell weightings."""

from dnnet.loss.cell_weights import WEIGHTINGS, cell_weights
from dnnet.loss.joint_loss import JointLoss

__all__ = ["WEIGHTINGS", "JointLoss", "cell_weights"]
