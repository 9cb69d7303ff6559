"""Anytime inference: walk a path of cells, refining the answer at every step without recomputing.

path (which cells, what they cost), stopping (confidence and deadline), kernels (one folded
convolution by group range), folded_blocks and folded_network (the network and its buffers),
runner (`AnytimeRunner`), serving (one request at a time).
"""

from dnnet.anytime.path import COMPUTE_AHEAD, PathCost, check_path, default_path, path_cost, path_logits
from dnnet.anytime.runner import UNFOLD_MAX_BATCH, AnytimeAnswer, AnytimeRunner
from dnnet.anytime.serving import ServingSummary, serve_one_by_one
from dnnet.anytime.stopping import EarlyStop, StepTimes, choose_threshold

__all__ = ["COMPUTE_AHEAD", "UNFOLD_MAX_BATCH", "AnytimeAnswer", "AnytimeRunner", "EarlyStop", "PathCost", "ServingSummary", "StepTimes",
           "check_path", "choose_threshold", "default_path", "path_cost", "path_logits", "serve_one_by_one"]
