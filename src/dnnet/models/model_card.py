"""README.md of a weights folder: what the weights are, what they were trained on and how, and how well they do, read
from the folder's own record (config.json), so that the card cannot say what the record does not."""

from __future__ import annotations

from typing import Any

from dnnet.config import NetConfig

NOT_RECORDED = "not recorded in this folder"


def model_card(record: dict[str, Any]) -> str:
    """The card of a weights folder whose config.json holds `record` (as `write_pretrained` writes it)."""
    config = NetConfig.from_dict(record["net_config"])
    network, preprocessing, provenance = record["network"], record.get("preprocessing", {}), record.get("provenance", {})
    training = provenance.get("train_config") or {}
    channels = "/".join(str(c) for c in config.stage_channels)
    if network["kind"] == "subnet":
        what = f"one cell of a doubly nested network: exit {network['depth']} at width {network['width']} of {config.groups}"
    else:
        kind = "a doubly nested network" if config.causal and config.groups > 1 else "a network"
        what = f"{kind}, {config.num_exits} exits x {config.groups} widths ({channels} channels at full width)"
    lines = [f"# {training.get('preset', 'dnnet')} weights", "", f"- Network: {what}."]
    lines.append(f"- Data: {provenance.get('data', NOT_RECORDED)}; input {_shape(preprocessing)}; classes: "
                 f"{', '.join(preprocessing.get('classes', [])) or NOT_RECORDED}.")
    lines.append(f"- Recipe: {_recipe(training)}.")
    lines += _accuracy_lines(provenance, network["kind"])
    anytime = provenance.get("anytime_path")
    lines.append(f"- Anytime path: {_anytime(anytime)}." if anytime else f"- Anytime path: {NOT_RECORDED}.")
    run = provenance.get("run_provenance") or {}
    lines.append(f"- Made by dnnet {provenance.get('dnnet_version', '?')} from a run at commit "
                 f"{str(run.get('commit', NOT_RECORDED))[:12]}.")
    loader = "SubNet.from_pretrained(FOLDER)" if network["kind"] == "subnet" else "DNNet.from_pretrained(FOLDER)"
    lines += ["", "```python", "from dnnet import DNNet, SubNet", f"model = {loader}",
              "x = model.pretrained_cfg.prepare(image)  # a PIL image or uint8 array: resized, normalised",
              "label = model.pretrained_cfg.label(model(x).argmax(-1).item())", "```", ""]
    return "\n".join(lines)


def _shape(preprocessing: dict[str, Any]) -> str:
    shape = preprocessing.get("image_shape")
    if not shape:
        return "size " + NOT_RECORDED
    mean = ", ".join(f"{v:.4f}" for v in preprocessing.get("mean", []))
    std = ", ".join(f"{v:.4f}" for v in preprocessing.get("std", []))
    return f"{shape[0]} x {shape[1]} x {shape[2]}, pixels / 255, then minus mean ({mean}) over std ({std}) per channel"


def _recipe(training: dict[str, Any]) -> str:
    if not training:
        return NOT_RECORDED
    parts = [f"{training.get('epochs')} epochs", f"{training.get('schedule')} schedule",
             f"batch {training.get('batch_size')}", f"seed {training.get('seed')}"]
    options = {"ema": "weight average {}", "label_smoothing": "label smoothing {}", "teacher": "teacher {}",
               "distill_weight": "self-distillation {}"}
    parts += [text.format(training[key]) for key, text in options.items() if training.get(key)]
    return ", ".join(parts)


def _accuracy_lines(provenance: dict[str, Any], kind: str) -> list[str]:
    test = provenance.get("test_accuracy")
    if test is None:
        return [f"- Test accuracy: {NOT_RECORDED}."]
    if kind == "subnet":
        return [f"- Test accuracy of this cell: {100 * test:.2f}%."]
    last_exit = test["every_cell"][-1]
    widths = ", ".join(f"W{w} {100 * a:.2f}%" for w, a in enumerate(last_exit, 1))
    return [f"- Test accuracy of the full network: {100 * test['full_network']:.2f}%.",
            f"- Test accuracy of the widths at the last exit: {widths}."]


def _anytime(anytime: dict[str, Any]) -> str:
    return (f"{len(anytime['cells'])} cells chosen on validation ({anytime['rule']}), from {anytime['cells'][0]} to "
            f"{anytime['cells'][-1]}; area {100 * anytime['area_test']:.2f}% on test against the Pareto front's "
            f"{100 * anytime['front_area_test']:.2f}%")
