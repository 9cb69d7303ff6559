"""The anytime runner: every step equals its cell computed from scratch; paths, buffers, deadlines and confidence stops."""


import pytest
import torch
import torch.nn.functional as F
from conftest import randomize_batchnorm
from torch import nn

from dnnet import cell_resources, create_model
from dnnet.anytime.kernels import GroupConv
from dnnet.anytime.path import check_path, head_macs, layer_ranges, path_cost, path_logits
from dnnet.anytime.path_search import default_path
from dnnet.anytime.runner import UNFOLD_MAX_BATCH, AnytimeRunner
from dnnet.anytime.stopping import StepTimes, all_confident, choose_threshold, stop_step
from dnnet.errors import UserError


def _model(preset="dnnet_resnet20_g8", **kwargs):
    return randomize_batchnorm(create_model(preset, **kwargs)).eval()


PATHS = {
    "dnnet_resnet20_g8": [(1, 1), (1, 2), (1, 3), (3, 3), (3, 5), (3, 7), (10, 7), (10, 8)],  # runs of widening steps
    "dnnet_resnet8_g4": [(2, 1), (2, 2), (2, 4), (4, 4)],
}


@pytest.mark.parametrize("compute_ahead", ["none", "widening", "all"])
# products over unfolded inputs, then library convolutions, for every schedule
@pytest.mark.parametrize("batch", [1, max(UNFOLD_MAX_BATCH.values()) + 1])
@pytest.mark.parametrize("preset, shortcut, reduction, cell_heads", [
    ("dnnet_resnet20_g8", "pad", "sum", False), ("dnnet_resnet8_g4", "project", "sum", False),
    ("dnnet_resnet8_g4", "pad", "mean", False), ("dnnet_resnet20_g8", "pad", "sum", True)])
def test_every_step_equals_that_cell_computed_from_scratch(preset, shortcut, reduction, cell_heads, batch, compute_ahead):
    model = _model(preset, shortcut=shortcut, head_reduction=reduction, cell_heads=cell_heads)
    x = torch.randn(batch, 3, 32, 32)
    with torch.no_grad():
        every_cell = model.forward_all(x)
    steps = list(AnytimeRunner(model, PATHS[preset], compute_ahead=compute_ahead).steps(x))
    assert [cell for cell, _ in steps] == PATHS[preset]
    for (depth, width), logits in steps:
        torch.testing.assert_close(logits, every_cell[:, depth - 1, width - 1], rtol=1e-5, atol=1e-5)
    # not vacuous: neighbouring cells give other logits
    assert not torch.allclose(steps[1][1], every_cell[:, 0, 0], atol=1e-3)


@pytest.mark.parametrize("compute_ahead", ["none", "widening", "all"])
@pytest.mark.parametrize("batch", [1, max(UNFOLD_MAX_BATCH.values()) + 1])
@pytest.mark.parametrize("stem, block, shortcut, side", [
    ("imagenet", "basic", "pad", 32), ("cifar", "bottleneck", "project", 32), ("imagenet", "bottleneck", "pad", 37),
    ("imagenet", "bottleneck", "project", 36)])
def test_the_imagenet_family_steps_equal_their_cells(stem, block, shortcut, side, batch, compute_ahead):
    """Bottleneck blocks (three convolutions, two inner activations) and the max-pool stem, at even and odd sizes."""
    model = _model("dnnet_resnet8_g4", stem=stem, block=block, shortcut=shortcut)
    x = torch.randn(batch, 3, side, side)
    with torch.no_grad():
        every_cell = model.forward_all(x)
    steps = list(AnytimeRunner(model, PATHS["dnnet_resnet8_g4"], compute_ahead=compute_ahead).steps(x))
    assert [cell for cell, _ in steps] == PATHS["dnnet_resnet8_g4"]
    for (depth, width), logits in steps:
        torch.testing.assert_close(logits, every_cell[:, depth - 1, width - 1], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(steps[1][1], every_cell[:, 1, 0], atol=1e-3)


def test_the_depth_only_resnet18_walks_its_depths():
    model = _model("resnet18_anytime", groups=2)
    x = torch.randn(2, 3, 40, 40)
    with torch.no_grad():
        exits = model.forward_exits(x)
    for (depth, _), logits in AnytimeRunner(model, [(d, 2) for d in range(1, 10)]).steps(x):
        torch.testing.assert_close(logits, exits[:, depth - 1], rtol=1e-4, atol=1e-4)


def test_kept_buffers_serve_the_next_batch_and_walks_at_the_same_time_get_their_own():
    model = _model("dnnet_resnet8_g4", shortcut="project")
    batches = [torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.randn(3, 3, 24, 24)]
    with torch.no_grad():
        expected = [model.forward_all(x) for x in batches]
    runner = AnytimeRunner(model, PATHS["dnnet_resnet8_g4"])

    def check(index, cell, logits):
        torch.testing.assert_close(logits, expected[index][:, cell[0] - 1, cell[1] - 1], rtol=1e-5, atol=1e-5)

    for index in [0, 1, 2, 0]:  # new buffers, the same ones again, new for another shape, new again
        for cell, logits in runner.steps(batches[index]):
            check(index, cell, logits)
    for row in zip(*(runner.steps(x) for x in batches)):  # interleaved: only the first walk holds the kept buffers
        for index, (cell, logits) in enumerate(row):
            check(index, cell, logits)


@pytest.mark.parametrize("batch", [2, max(UNFOLD_MAX_BATCH.values()) + 1])
def test_a_depth_only_network_walks_its_depths(batch):
    model = _model("resnet32_anytime", width_multiplier=0.25)
    x = torch.randn(batch, 3, 32, 32)
    path = default_path(model.config, torch.zeros(16, 4))
    assert path == [(d, 4) for d in range(1, 17)]
    with torch.no_grad():
        exits = model.forward_exits(x)
    for (depth, _), logits in AnytimeRunner(model, path).steps(x):
        torch.testing.assert_close(logits, exits[:, depth - 1], rtol=1e-5, atol=1e-5)
    for (depth, width), logits in AnytimeRunner(model, [(2, 3), (9, 3)]).steps(x):  # a narrower slice of the dense network
        with torch.no_grad():
            torch.testing.assert_close(logits, model(x, depth, width), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("path, message", [([], "at least one cell"), ([(1, 1), (2, 2)], "not a step"),
                                           ([(2, 2), (1, 2)], "not a step"), ([(1, 1), (1, 9)], "width"),
                                           ([(11, 1)], "depth")])
def test_bad_paths_are_refused(path, message):
    with pytest.raises(ValueError, match=message):
        check_path(_model().config, path)


def test_a_dense_network_cannot_be_widened():
    with pytest.raises(ValueError, match="cannot be widened"):
        check_path(_model("resnet32_anytime", width_multiplier=0.25).config, [(1, 1), (1, 2)])


def test_deadline_and_confidence_stop_the_walk_with_the_latest_answer():
    model = _model()
    x = torch.randn(1, 3, 32, 32)
    runner = AnytimeRunner(model, PATHS["dnnet_resnet20_g8"])
    answer = runner.run(x, deadline_s=0.0)  # past the deadline after the first step
    assert answer.stopped_by == "deadline" and answer.cells_done == [(1, 1)] and answer.cell == (1, 1)
    full = runner.run(x)
    assert full.stopped_by == "path end" and full.cells_done == PATHS["dnnet_resnet20_g8"] and full.logits.shape == (1, 10)
    assert full.seconds == sorted(full.seconds)
    assert runner.run(x, confidence=0.0).cells_done == [(1, 1)]
    assert runner.run(x, confidence=1.01).stopped_by == "path end"


def test_path_cost_counts_every_layer_once_and_every_head_visited():
    config = create_model("dnnet_resnet20_g8").config
    path = PATHS["dnnet_resnet20_g8"]
    cost = path_cost(config, path)
    full = cell_resources(config, 10, 8).macs
    assert cost.final_cell_macs == full
    assert cost.incremental_macs == full + sum(head_macs(config, d, w) for d, w in path[:-1])
    assert cost.from_scratch_macs == sum(cell_resources(config, d, w).macs for d, w in path)
    assert head_macs(config, 10, 8) == 32 * 10


def test_threshold_is_the_lowest_that_keeps_the_accuracy():
    # image 0: step 0 wrong with 0.6, step 1 right; image 1: right at once with 0.95
    logits = torch.log(torch.tensor([[[0.6, 0.4], [0.1, 0.9]], [[0.95, 0.05], [0.9, 0.1]]]))
    labels = torch.tensor([1, 0])
    assert stop_step(logits, 0.7).tolist() == [1, 0]
    assert stop_step(logits, 0.5).tolist() == [0, 0]
    choice = choose_threshold(logits, labels, tolerance=0.0)
    assert choice.threshold == 0.61 and choice.accuracy == 1.0 and choice.mean_steps == 1.5
    assert choose_threshold(logits, labels, tolerance=0.5).threshold == 0.5


def test_path_logits_are_the_walk():
    model = _model("dnnet_resnet8_g4")
    x = torch.randn(2, 3, 32, 32)
    logits = path_logits(model, x, PATHS["dnnet_resnet8_g4"])
    walked = torch.stack([step for _, step in AnytimeRunner(model, PATHS["dnnet_resnet8_g4"]).steps(x)], dim=1)
    torch.testing.assert_close(logits, walked, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rows", [1, 3, 40])  # 40 x 10 logits: past the Python check, the tensor one
def test_confidence_check_is_the_top_softmax_probability(rows):
    logits = torch.randn(rows, 10) * 3
    top = logits.softmax(-1).amax(-1)
    for threshold in [top.min().item() - 1e-4, top.min().item() + 1e-4, 0.0, 1.0]:
        assert all_confident(logits, threshold) == bool((top >= threshold).all())


def test_step_times_average_each_step_over_walks():
    times = StepTimes(smoothing=0.5)
    times.record(1, [1.0, 3.0])
    times.record(1, [2.0, 3.0, 7.0])
    assert times.expected[1] == [1.5, 1.5, 4.0]
    assert times.next_step(1, 2) == 4.0 and times.next_step(1, 3) == 0.0 and times.next_step(2, 0) == 0.0


def test_deadline_stops_before_a_step_expected_to_pass_it():
    model = _model()
    x = torch.randn(1, 3, 32, 32)
    runner = AnytimeRunner(model, PATHS["dnnet_resnet20_g8"])
    runner.step_times.expected[1] = [0.0, 0.0, 1e3]  # the third step would take 1000 s
    answer = runner.run(x, deadline_s=100.0)
    assert answer.stopped_by == "deadline" and answer.cells_done == PATHS["dnnet_resnet20_g8"][:2]
    assert runner.run(x, deadline_s=100.0).cells_done == PATHS["dnnet_resnet20_g8"][:2]  # step 3 never ran: still 1000 s
    assert runner.run(x).stopped_by == "path end"


def test_a_runner_refuses_an_unknown_schedule():
    with pytest.raises(UserError, match="compute ahead must be one of none, widening, all, got 'some'"):
        AnytimeRunner(_model("dnnet_resnet8_g4"), PATHS["dnnet_resnet8_g4"], compute_ahead="some")


def test_step_times_are_learned_per_schedule():
    model = _model("dnnet_resnet8_g4")
    runner = AnytimeRunner(model, PATHS["dnnet_resnet8_g4"], compute_ahead="all")
    x = torch.randn(1, 3, 8, 8)
    runner.run(x)
    learned = runner.step_times
    assert len(learned.expected[1]) == len(PATHS["dnnet_resnet8_g4"])
    runner.compute_ahead = "none"  # other steps: nothing learned for them yet
    assert runner.step_times.expected == {}
    runner.run(x)
    runner.compute_ahead = "all"
    assert runner.step_times is learned


def test_the_default_schedule_computes_a_run_of_widening_steps_in_its_first():
    assert AnytimeRunner(_model("dnnet_resnet8_g4"), PATHS["dnnet_resnet8_g4"]).compute_ahead == "widening"


def test_a_schedule_set_later_is_checked_as_one_given_at_the_start():
    runner = AnytimeRunner(_model("dnnet_resnet8_g4"), PATHS["dnnet_resnet8_g4"])
    runner.compute_ahead = "none"
    assert runner.compute_ahead == "none"
    with pytest.raises(UserError, match="compute ahead must be one of none, widening, all, got 'everything'"):
        runner.compute_ahead = "everything"
    assert runner.compute_ahead == "none"


def test_each_cell_computes_only_its_new_group_ranges():
    path = [(1, 1), (1, 2), (3, 2), (3, 4)]
    assert layer_ranges(path, exit_blocks=(0, 1, 2, 3)) == [
        [(0, 0, 1)],  # the stem's first group
        [(0, 1, 2)],  # its second
        [(1, 0, 2), (2, 0, 2)],  # blocks 1 and 2 at width 2
        [(0, 2, 4), (1, 2, 4), (2, 2, 4)],  # groups 3 and 4 of everything so far
    ]


@pytest.mark.parametrize("compute_ahead", ["none", "widening", "all"])
def test_the_kernel_follows_the_batch_size_and_schedule_unless_given(compute_ahead):
    model = _model("dnnet_resnet8_g4")
    for batch in [UNFOLD_MAX_BATCH[compute_ahead], UNFOLD_MAX_BATCH[compute_ahead] + 1]:
        x = torch.randn(batch, 3, 8, 8)
        for given, unfolds in [(None, batch == UNFOLD_MAX_BATCH[compute_ahead]), (0, False), (batch, True)]:
            runner = AnytimeRunner(model, PATHS["dnnet_resnet8_g4"], unfold_max_batch=given, compute_ahead=compute_ahead)
            list(runner.steps(x))
            assert (runner._kept[compute_ahead].space.unfolded[0][0] is not None) == unfolds


def test_computing_ahead_moves_group_ranges_to_earlier_steps():
    path, exit_blocks = [(1, 1), (1, 2), (1, 3), (2, 3), (2, 4)], (0, 1, 2)
    assert layer_ranges(path, exit_blocks, "none") == [[(0, 0, 1)], [(0, 1, 2)], [(0, 2, 3)], [(1, 0, 3)], [(0, 3, 4), (1, 3, 4)]]
    # the run of widening steps at depth 1 in its first step; the one at depth 2 is a single step
    assert layer_ranges(path, exit_blocks, "widening") == [[(0, 0, 1)], [(0, 1, 3)], [], [(1, 0, 3)], [(0, 3, 4), (1, 3, 4)]]
    assert layer_ranges(path, exit_blocks, "all") == [[(0, 0, 4)], [], [], [(1, 0, 4)], []]
    with pytest.raises(UserError, match="compute ahead must be one of"):
        layer_ranges(path, exit_blocks, "some")


@pytest.mark.parametrize("stride", [1, 2])
def test_unfolded_product_and_library_convolution_give_each_group_range_alike(stride):
    # 3 groups of 2 input and 4 output channels; groups 2..3 see input groups 1..3, after groups 1 were computed
    conv = nn.Conv2d(6, 12, 3, stride, padding=1)
    folded = GroupConv.from_conv(conv, in_group_channels=2, out_group_channels=4)
    x, border = torch.randn(2, 6, 8, 8), 1
    source = F.pad(x, (border,) * 4).transpose(0, 1).contiguous()  # (channels, N, H, W) with its zero border
    unfolded = folded.unfolded_input(source, border)
    folded.prepare(source, unfolded, border, 0, 1).run()  # unfolds input group 1, which the next step only reads
    with torch.no_grad():
        expected = F.conv2d(x, conv.weight[4:12], conv.bias[4:12], stride, padding=1).transpose(0, 1)
    for step in [folded.prepare(source, unfolded, border, 1, 3), folded.prepare(source, None, border, 1, 3)]:
        torch.testing.assert_close(step.run().view(expected.shape), expected, rtol=1e-5, atol=1e-5)
