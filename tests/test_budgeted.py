"""Budgeted batch classification: per-step thresholds chosen on validation under an average MAC budget."""

import pytest
import torch

from dnnet import create_model
from dnnet.anytime.budgeted import (
    NEVER,
    PathPredictions,
    budget_sweep,
    coordinate_search,
    geometric_shares,
    geometric_thresholds,
    greedy_thresholds,
    outcome,
    stop_costs,
    stopping_steps,
)
from dnnet.anytime.path import path_cost
from dnnet.anytime.path_search import default_path
from dnnet.errors import UserError


@pytest.mark.parametrize("preset", ["dnnet_resnet8_g4", "dnnet_resnet20_g8", "resnet20_anytime"])
def test_stopping_later_costs_more_and_the_last_stop_is_the_walked_path(preset):
    config = create_model(preset).config
    path = default_path(config, torch.rand(config.grid_shape))
    costs = stop_costs(config, path)
    assert torch.all(costs[1:] > costs[:-1])
    assert costs[-1].item() == path_cost(config, path).incremental_macs
    assert costs[0].item() == path_cost(config, path[:1]).incremental_macs


def test_an_image_stops_at_its_first_confident_step_and_at_the_last_at_the_latest():
    confidence = torch.tensor([[0.9, 0.5, 0.1], [0.2, 0.8, 0.3], [0.1, 0.2, 0.3]], dtype=torch.float64)
    assert stopping_steps(confidence, torch.tensor([0.85, 0.7, NEVER], dtype=torch.float64)).tolist() == [0, 1, 2]
    assert stopping_steps(confidence, torch.tensor([NEVER, NEVER, NEVER], dtype=torch.float64)).tolist() == [2, 2, 2]


def test_outcome_counts_accuracy_mean_cost_and_stop_shares():
    confidence = torch.tensor([[0.9, 0.5], [0.2, 0.8], [0.1, 0.2], [0.95, 0.9]], dtype=torch.float64)
    correct = torch.tensor([[True, False], [False, True], [False, False], [False, True]])
    result = outcome(confidence, correct, torch.tensor([1.0, 3.0], dtype=torch.float64), torch.tensor([0.85, NEVER]))
    # images 0 and 3 stop at step 0 (0 right, 3 wrong); 1 and 2 go on (1 right, 2 wrong)
    assert (result.accuracy, result.mean_macs, result.stop_shares) == (0.5, 2.0, [0.5, 0.5])


@pytest.mark.parametrize("budget", [1.0, 1.5, 3.0, 6.0, 10.0])
def test_geometric_shares_meet_the_budget(budget):
    costs = torch.tensor([1.0, 2.0, 4.0, 10.0], dtype=torch.float64)
    shares = geometric_shares(costs, budget)
    assert shares.sum().item() == pytest.approx(1.0)
    assert (shares * costs).sum().item() == pytest.approx(budget, rel=1e-6)
    ratios = (shares[1:] / shares[:-1]).tolist()
    assert ratios == pytest.approx([ratios[0]] * 3, rel=1e-6)  # geometric: q_k proportional to p^k


def test_geometric_thresholds_let_each_steps_share_stop():
    torch.manual_seed(0)
    confidence = torch.rand(1000, 4, dtype=torch.float64)
    costs = torch.tensor([1.0, 2.0, 4.0, 10.0], dtype=torch.float64)
    thresholds = geometric_thresholds(confidence, costs, 3.0)
    wanted = (geometric_shares(costs, 3.0) * 1000).round()
    stopped = torch.bincount(stopping_steps(confidence, thresholds), minlength=4).double()
    assert stopped[:3].tolist() == wanted[:3].tolist()


def test_a_budget_below_the_first_stop_is_refused():
    with pytest.raises(UserError, match="below the cheapest stop"):
        geometric_thresholds(torch.rand(10, 3), torch.tensor([5.0, 6.0, 7.0], dtype=torch.float64), 4.0)


def test_greedy_search_stays_within_the_budget_and_beats_the_geometric_rule_where_it_can():
    # step 0 is right exactly for the confident images; step 1 always right. Budget: half the images at step 0.
    confidence = torch.tensor([[0.9, 1.0]] * 50 + [[0.4, 1.0]] * 50, dtype=torch.float64)
    correct = torch.tensor([[True, True]] * 50 + [[False, True]] * 50)
    costs = torch.tensor([1.0, 3.0], dtype=torch.float64)
    greedy = greedy_thresholds(confidence, correct, costs, 2.0)
    result = outcome(confidence, correct, costs, greedy)
    assert result.mean_macs <= 2.0 and result.accuracy == 1.0  # the confident half stops early, the rest goes on
    geometric = outcome(confidence, correct, costs, geometric_thresholds(confidence, costs, 2.0))
    assert geometric.accuracy <= result.accuracy


@pytest.mark.parametrize("seed", [5, 12, 14])  # cases where a search from the geometric rule alone ended 5-14 points lower
def test_greedy_search_never_ends_below_the_best_single_step_the_budget_affords(seed):
    generator = torch.Generator().manual_seed(seed)
    steps, images = 8, 300
    costs = torch.cumsum(torch.rand(steps, generator=generator, dtype=torch.float64)
                         * torch.linspace(1, 6, steps, dtype=torch.float64) ** 2, 0)  # later steps dearer
    confidence = torch.rand(images, steps, generator=generator, dtype=torch.float64)
    correct = torch.rand(images, steps, generator=generator) < torch.linspace(0.2, 0.9, steps)  # later steps better
    budget = float(costs[steps // 2] * 1.01)
    result = outcome(confidence, correct, costs, greedy_thresholds(confidence, correct, costs, budget))
    affordable = [k for k in range(steps) if costs[k].item() <= budget]
    best_single = max(correct[:, k].double().mean().item() for k in affordable)
    assert result.mean_macs <= budget and result.accuracy >= best_single
    from_geometric = coordinate_search(confidence, correct, costs, budget, geometric_thresholds(confidence, costs, budget), 40, 3)[1]
    assert result.accuracy >= from_geometric.accuracy  # and never below the search from the geometric rule alone


def test_the_sweep_chooses_on_validation_and_reports_test():
    torch.manual_seed(1)
    logits = torch.randn(200, 3, 10)
    labels = torch.randint(0, 10, (200,))
    val, test = PathPredictions.from_logits(logits[:100], labels[:100]), PathPredictions.from_logits(logits[100:], labels[100:])
    costs = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
    rows = budget_sweep(val, test, costs, [0.5, 2.0, 4.0])
    assert [(r["budget_macs"], r["method"]) for r in rows] == [(2.0, "geometric"), (2.0, "greedy"), (4.0, "geometric"), (4.0, "greedy")]
    for row in rows:
        assert row["val_mean_macs"] <= row["budget_macs"] + 0.05 * row["budget_macs"]
        thresholds = torch.tensor(row["thresholds"], dtype=torch.float64)
        assert row["test_accuracy"] == outcome(test.confidence, test.correct, costs, thresholds).accuracy


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, digits):
    from dnnet.train import TrainConfig, train

    root = tmp_path_factory.mktemp("budgeted")
    for name, preset, groups in (("dnnet", "dnnet_resnet8_g4", None), ("depth_only", "resnet20_anytime", 2)):
        train(TrainConfig.from_flat(preset=preset, groups=groups, epochs=1, batch_size=256, channels_last=False), root / name,
              show_progress=False, data=digits)
    return root / "dnnet", root / "depth_only"


def test_the_command_sweeps_budgets_for_both_networks_and_draws_them(two_runs, capsys):
    import json

    from dnnet.cli.main import main

    dnnet_run, depth_only = two_runs
    assert main(["budgeted", str(dnnet_run), "--baseline", str(depth_only), "--budgets", "4", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    record = json.loads((dnnet_run / "budgeted" / "budgeted.json").read_text())
    assert (dnnet_run / "budgeted" / "budgeted.png").read_bytes()[:4] == b"\x89PNG"
    assert printed["curves"] == record["curves"] and set(record["curves"]) == {"DNNet", "baseline"}
    assert len(record["budgets"]) == 4 and record["budgets"][0] == pytest.approx(record["stop_costs"]["DNNet"][0])
    assert {r["method"] for r in record["curves"]["DNNet"]} == {"geometric", "greedy"}
    assert len(record["curves"]["DNNet"]) == 8  # every budget is within the DNNet's reach, by construction of the sweep
    assert record["paths"]["baseline"][-1] == "10x2" and all(c.endswith("x2") for c in record["paths"]["baseline"])


def test_auto_keeps_the_candidate_path_with_the_best_mean_validation_accuracy(two_runs, capsys):
    import json

    from dnnet.anytime.budgeted_path import mean_accuracy
    from dnnet.anytime.path_search import area_path, front_path, greedy_path
    from dnnet.config import cell_name
    from dnnet.evaluation import read_accuracy_grid
    from dnnet.train.run_directory import load_trained_model

    dnnet_run, depth_only = two_runs
    out = dnnet_run / "auto"
    assert main_json(["budgeted", str(dnnet_run), "--baseline", str(depth_only), "--budgets", "3", "--out", str(out)], capsys) == 0
    record = json.loads((out / "budgeted.json").read_text())
    config, val = load_trained_model(dnnet_run)[0].config, read_accuracy_grid(dnnet_run, "val")
    candidates = record["path_candidates"]["DNNet"]
    expected = {"area": area_path(config, val), "front": front_path(config, val), "greedy": greedy_path(config, val)}
    assert {name: c["cells"] for name, c in candidates.items()} == {n: [cell_name(*c) for c in p] for n, p in expected.items()}
    scores = {name: c["budgeted_mean_val_accuracy"] for name, c in candidates.items()}
    chosen = record["path_choice"]["DNNet"]["chosen"]
    assert scores[chosen] == max(scores.values()) and record["paths"]["DNNet"] == candidates[chosen]["cells"]
    assert record["curves"]["DNNet"] == candidates[chosen]["curve"]
    assert scores["greedy"] == mean_accuracy(candidates["greedy"]["curve"], "val")
    assert list(record["path_candidates"]["baseline"]) == ["exits"]
    assert (out / "anytime_path.png").read_bytes()[:4] == b"\x89PNG"
    explicit = dnnet_run / "explicit"
    argv = ["budgeted", str(dnnet_run), "--budgets", "3", "--path", "1x1,1x2,4x2,4x4", "--out", str(explicit)]
    assert main_json(argv, capsys) == 0
    record = json.loads((explicit / "budgeted.json").read_text())
    assert record["paths"]["DNNet"] == ["1x1", "1x2", "4x2", "4x4"] and list(record["path_candidates"]["DNNet"]) == ["explicit"]


def test_the_command_says_when_the_test_split_spends_more_than_the_budget():
    from dnnet.cli.budgeted_command import overspent_text

    assert overspent_text({"budget_macs": 1e6, "test_mean_macs": 2.2e6}).startswith(" (2.20x the budget: the test images")
    assert overspent_text({"budget_macs": 1e6, "test_mean_macs": 1.04e6}) == ""


def main_json(argv, capsys):
    from dnnet.cli.main import main

    code = main([*argv, "--json"])
    capsys.readouterr()
    return code


def test_a_budget_below_the_first_cell_is_a_clear_error(two_runs, capsys):
    from dnnet.cli.main import main

    assert main(["budgeted", str(two_runs[0]), "--avg-macs", "10"]) == 2
    assert "below the cheapest stop on the path" in capsys.readouterr().err


def test_the_runner_takes_a_threshold_per_step():
    from dnnet.anytime import AnytimeRunner

    torch.manual_seed(0)
    model = create_model("dnnet_resnet8_g4", image_size=8)
    path = [(1, 1), (1, 2), (2, 2), (3, 2)]
    runner = AnytimeRunner(model, path)
    x = torch.randn(1, 3, 8, 8)
    answer = runner.run(x, confidence=[NEVER, NEVER, 0.0, NEVER])  # only the third step accepts anything
    assert answer.stopped_by == "confidence" and answer.cell == (2, 2) and len(answer.cells_done) == 3
    with pytest.raises(UserError, match="2 confidence thresholds for a path of 4 cells"):
        runner.run(x, confidence=[0.5, 0.5])


def test_serving_one_by_one_walks_the_planned_steps(two_runs):
    import json

    from dnnet.cli.main import main

    dnnet_run = two_runs[0]
    assert main(["budgeted", str(dnnet_run), "--budgets", "3", "--serve", "40", "--out", str(dnnet_run / "served")]) == 0
    rows = [r for r in json.loads((dnnet_run / "served" / "budgeted.json").read_text())["curves"]["DNNet"] if r["method"] == "greedy"]
    for row in rows:
        served = row["served_batch_1"]
        assert served["images"] == 40 and served["same_stop_share"] >= 0.95  # float32 runner against the float64 plan
        assert served["mean_macs"] == pytest.approx(served["planned_mean_macs"], rel=0.05)
        assert "served_batches" not in row


def test_serving_in_batches_computes_the_planned_stops(two_runs):
    import json

    from dnnet.cli.main import main

    dnnet_run = two_runs[0]
    argv = ["budgeted", str(dnnet_run), "--budgets", "3", "--serve", "40", "--serve-batch", "16", "--out", str(dnnet_run / "b")]
    assert main(argv) == 0
    rows = [r for r in json.loads((dnnet_run / "b" / "budgeted.json").read_text())["curves"]["DNNet"] if r["method"] == "greedy"]
    for row in rows:
        one, batched = row["served_batch_1"], row["served_batches"]
        assert batched["batch_size"] == 16 and batched["same_stop_share"] >= 0.95
        assert batched["mean_macs"] == pytest.approx(batched["planned_mean_macs"], rel=0.05)
        assert batched["accuracy"] == pytest.approx(one["accuracy"], abs=0.05)  # the same images, the same stops but rounding


@pytest.mark.parametrize("flags,message", [(["--serve", "-1"], "--serve and --serve-batch must be at least 0"),
                                           (["--serve", "5", "--threads", "0"], "--threads must be between 1 and this machine's"),
                                           (["--budgets", "1"], "--budgets must be at least 2"),
                                           (["--serve-batch", "8"], "give --serve too")])
def test_the_command_names_a_bad_flag(two_runs, capsys, flags, message):
    from dnnet.cli.main import main

    assert main(["budgeted", str(two_runs[0]), *flags]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("preset, batch, unfold_max_batch", [("dnnet_resnet8_g4", 6, 8), ("dnnet_resnet8_g4", 20, 8),
                                                            ("dnnet_resnet20_g8", 12, 16), ("resnet20_anytime", 10, 0)])
def test_each_image_leaves_the_batch_at_its_own_step_with_the_planned_logits(preset, batch, unfold_max_batch):
    """classify_each against the plan on `path_logits`: the same stop for every image, its logits at that stop, and
    each step computing only the images still walking (in both kinds of step: unfolded products and convolutions)."""
    from conftest import randomize_batchnorm

    from dnnet.anytime import AnytimeRunner, path_logits

    torch.manual_seed(1)
    model = randomize_batchnorm(create_model(preset, image_size=8)).eval()
    path = default_path(model.config, torch.rand(model.config.grid_shape))
    x = torch.randn(batch, 3, 8, 8)
    planned = path_logits(model, x, path)  # (N, steps, classes)
    confidence = planned.softmax(-1).amax(-1)
    # thresholds half-way between two images' confidences, so that no image sits on one; the last accepts everything
    ordered = confidence.sort(0).values
    middle = (ordered[batch // 2] + ordered[batch // 2 + 1]) / 2
    thresholds = torch.cat([middle[:-1] + 0.02 * torch.arange(len(path) - 1), torch.zeros(1)])
    stops = stopping_steps(confidence, thresholds)
    answer = AnytimeRunner(model, path, unfold_max_batch=unfold_max_batch).classify_each(x, thresholds.tolist())
    assert answer.stop_steps.tolist() == stops.tolist()
    assert 0 < int((stops < len(path) - 1).sum()) < batch  # some leave early and some walk on
    torch.testing.assert_close(answer.logits, planned[torch.arange(batch), stops], rtol=1e-4, atol=1e-4)
    walked = len(answer.batch_sizes)
    assert answer.batch_sizes == [int((stops >= step).sum()) for step in range(walked)]
    costs = stop_costs(model.config, path).double()
    spent = sum(size * (costs[s] - (costs[s - 1] if s else 0)) for s, size in enumerate(answer.batch_sizes))
    assert spent.item() == pytest.approx(costs[stops].sum().item())  # the MACs it computed are the planned stops' costs


def test_each_image_classification_checks_its_thresholds_and_keeps_its_buffers():
    from dnnet.anytime import AnytimeRunner

    model = create_model("dnnet_resnet8_g4", image_size=8)
    path = [(1, 1), (1, 2), (2, 2)]
    runner = AnytimeRunner(model, path)
    with pytest.raises(UserError, match="2 confidence thresholds for a path of 3 cells"):
        runner.classify_each(torch.randn(4, 3, 8, 8), [0.5, 0.5])
    x = torch.randn(4, 3, 8, 8)
    first = runner.classify_each(x, [0.0, NEVER, NEVER])  # everybody leaves at once
    assert first.stop_steps.tolist() == [0, 0, 0, 0] and first.batch_sizes == [4]
    kept = runner._kept["none"]
    again = runner.classify_each(x, [NEVER, NEVER, 0.0])
    assert again.stop_steps.tolist() == [2, 2, 2, 2] and again.batch_sizes == [4, 4, 4]
    assert runner._kept["none"] is kept  # the batch's buffers and steps, reused by the next batch of its shape


def test_confidence_is_compared_in_double_precision_as_thresholds_are_chosen():
    from dnnet.anytime.stopping import top_confidence

    logits = torch.tensor([[20.0, 0.0, 0.0]])  # top probability 1 - 4.1e-9: 1.0 in float32
    assert top_confidence(logits).dtype == torch.float64
    assert not bool(top_confidence(logits)[0] >= 1 - 1e-9) and bool(logits.softmax(-1).amax(-1)[0] >= 1 - 1e-9)


def test_the_images_left_walking_continue_with_unfolded_products_once_few(monkeypatch):
    """A batch of 20 convolves; once 14 leave at the first step, the 6 left walk on with unfolded products."""
    from conftest import randomize_batchnorm

    from dnnet.anytime import AnytimeRunner, path_logits
    from dnnet.anytime.folded_network import FoldedNetwork

    torch.manual_seed(2)
    model = randomize_batchnorm(create_model("dnnet_resnet8_g4", image_size=8)).eval()
    path = [(1, 1), (2, 1), (2, 2), (3, 2), (4, 2)]
    x = torch.randn(20, 3, 8, 8)
    confidence = path_logits(model, x, path).softmax(-1).amax(-1)
    first = confidence[:, 0].sort().values
    thresholds = [((first[5] + first[6]) / 2).item(), NEVER, NEVER, NEVER, 0.0]  # the 14 most confident leave at once
    switches = []
    keep_images = FoldedNetwork.keep_images
    monkeypatch.setattr(FoldedNetwork, "keep_images", lambda self, *args, unfold: switches.append(unfold) or
                        keep_images(self, *args, unfold=unfold))
    answer = AnytimeRunner(model, path, unfold_max_batch=8).classify_each(x, thresholds)
    assert switches == [True] and answer.batch_sizes == [20, 6, 6, 6, 6]
    assert answer.stop_steps.tolist() == stopping_steps(confidence, torch.tensor(thresholds, dtype=torch.float64)).tolist()
    torch.testing.assert_close(answer.logits, path_logits(model, x, path)[torch.arange(20), answer.stop_steps], rtol=1e-4,
                               atol=1e-4)


def test_each_image_classification_computes_nothing_ahead_and_walks_keep_their_own_buffers():
    from dnnet.anytime import AnytimeRunner

    model = create_model("dnnet_resnet8_g4", image_size=8).eval()
    path = [(1, 1), (1, 2), (1, 4), (2, 4)]
    runner = AnytimeRunner(model, path, compute_ahead="all")  # every layer ahead; batch 6 without unfolding
    x = torch.randn(6, 3, 8, 8)
    with torch.no_grad():
        every_cell = model.forward_all(x)
    for _ in range(2):  # walk and classify in turn: each keeps its own buffers and steps
        answer = runner.classify_each(x, [NEVER, NEVER, NEVER, 0.0])
        torch.testing.assert_close(answer.logits, every_cell[:, 1, 3], rtol=1e-5, atol=1e-5)
        for (depth, width), logits in runner.steps(x):
            torch.testing.assert_close(logits, every_cell[:, depth - 1, width - 1], rtol=1e-5, atol=1e-5)
        kept = dict(runner._kept)
        assert [len(step.layer_steps) for step in kept["none"].steps] == [1, 1, 1, 1]
        assert [len(step.layer_steps) for step in kept["all"].steps] == [1, 0, 0, 1]
        assert kept["none"].space.unfolded[0][0] is not None and kept["all"].space.unfolded[0][0] is None
    assert runner._kept == kept  # the second round reused the first's


def test_budgeted_serving_refuses_a_runner_that_computes_ahead():
    from dnnet.anytime import AnytimeRunner
    from dnnet.anytime.budgeted_serving import serve_budgeted

    model = create_model("dnnet_resnet8_g4", image_size=8).eval()
    path = [(1, 1), (2, 1)]
    thresholds, costs = torch.tensor([0.5, 0.0]), torch.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="computes nothing ahead"):
        serve_budgeted(AnytimeRunner(model, path), torch.zeros(2, 3, 8, 8), torch.zeros(2), thresholds, costs, torch.ones(2, 2))
