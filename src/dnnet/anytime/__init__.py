"""Anytime inference: walk a path of cells, refining the answer at every step without recomputing.

path (checking a path, what it costs), path_area (how good a walk is: its `area`), path_search
(the exact best path, the greedy one, the walk through the Pareto front), path_choice (a path by
name), stopping (confidence and deadline), kernels (one folded
convolution by group range), folded_blocks and folded_network (the network and its buffers),
runner (`AnytimeRunner`), serving (one request at a time).
"""

from dnnet.anytime.path import COMPUTE_AHEAD, PathCost, check_path, path_cost, path_logits
from dnnet.anytime.path_area import LogMacAxis, front_area, path_area, walk_costs
from dnnet.anytime.path_choice import PATH_RULES, ChosenPath, choose_path, parse_path
from dnnet.anytime.path_search import area_path, default_path, front_path, greedy_path
from dnnet.anytime.runner import UNFOLD_MAX_BATCH, AnytimeAnswer, AnytimeRunner
from dnnet.anytime.serving import ServingSummary, serve_one_by_one
from dnnet.anytime.stopping import EarlyStop, StepTimes, choose_threshold

__all__ = ["COMPUTE_AHEAD", "PATH_RULES", "UNFOLD_MAX_BATCH", "AnytimeAnswer", "AnytimeRunner", "ChosenPath", "EarlyStop", "LogMacAxis",
           "PathCost", "ServingSummary", "StepTimes", "area_path", "check_path", "choose_path", "choose_threshold", "default_path",
           "front_area", "front_path", "greedy_path", "parse_path", "path_area", "path_cost", "path_logits", "serve_one_by_one",
           "walk_costs"]
