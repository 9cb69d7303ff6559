"""Sliceable layers: each one keeps channel group i a function of groups 1..i."""

from dnnet.layers.causal_basic_block import CausalBasicBlock
from dnnet.layers.causal_bottleneck_block import CausalBottleneckBlock
from dnnet.layers.causal_conv import ChannelCausalConv2d, causal_mask
from dnnet.layers.group_exit_head import GroupExitHead
from dnnet.layers.group_shortcut import CausalProjectionShortcut, GroupPadShortcut, make_shortcut
from dnnet.layers.prefix_batchnorm import PrefixBatchNorm2d

__all__ = [
    "CausalBasicBlock",
    "CausalBottleneckBlock",
    "CausalProjectionShortcut",
    "ChannelCausalConv2d",
    "GroupExitHead",
    "GroupPadShortcut",
    "PrefixBatchNorm2d",
    "causal_mask",
    "make_shortcut",
]
