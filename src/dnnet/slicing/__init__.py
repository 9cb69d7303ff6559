"""Standalone sub-networks cut from a DNNet, and their files."""

from dnnet.slicing.fold_batchnorm import fold_batchnorm
from dnnet.slicing.slice import slice_subnet
from dnnet.slicing.subnet import SubNet, SubNetBlock, SubNetBottleneckBlock
from dnnet.slicing.subnet_io import load_subnet, save_subnet

__all__ = ["SubNet", "SubNetBlock", "SubNetBottleneckBlock", "fold_batchnorm", "load_subnet", "save_subnet", "slice_subnet"]
