"""select_cell.py (dnnet.deploy.bundle_selector) on a bundle of two linear "cells" written here: it trusts nothing in
the manifest, reads budgets as `dnnet select` does, takes uint8 or [0, 1] float images, and reports a mistake in one
line with dnnet's exit codes. test_bundle.py runs it on a bundle `dnnet bundle` wrote from a trained run."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from dnnet.accounting import CellResources
from dnnet.config import cell_name
from dnnet.deploy import bundle_selector
from dnnet.selection import Budget, explain_infeasible
from dnnet.utils.amounts import parse_count, parse_size

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

IMAGE_SHAPE = (3, 4, 5)
MEAN, STD = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]  # a mean far from 0: pixels divided by 255 twice all look alike
CLASSES = ["cat", "dog", "emu"]
# neither cell is cheaper in both resources, so a MAC budget and a memory budget can each leave one cell and together none
CELLS = [CellResources(1, 1, macs=1_000, dense_macs=1_000, params=200, dense_params=200, largest_feature_map_values=60,
                       peak_act_bytes=8_192),
         CellResources(2, 2, macs=3_000, dense_macs=4_000, params=600, dense_params=800, largest_feature_map_values=120,
                       peak_act_bytes=4_096)]
ACCURACY = [0.6, 0.8]
WEIGHTS = [np.random.default_rng(seed).normal(size=(int(np.prod(IMAGE_SHAPE)), len(CLASSES))).astype(np.float32) for seed in (1, 2)]
IMAGES = np.random.default_rng(0).integers(0, 256, (12, *IMAGE_SHAPE), dtype=np.uint8)


def expected_classes(cell: int, images: np.ndarray = IMAGES) -> list[str]:
    """What cell `cell` (an index of CELLS) answers, computed here without onnxruntime."""
    x = (images.astype(np.float32) / 255 - np.float32(MEAN)[:, None, None]) / np.float32(STD)[:, None, None]
    return [CLASSES[i] for i in (x.reshape(len(x), -1) @ WEIGHTS[cell]).argmax(1)]


def linear_model(weights: np.ndarray) -> bytes:
    """An ONNX file: logits = flattened image @ weights."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Flatten", ["image"], ["flat"], axis=1), helper.make_node("MatMul", ["flat", "W"], ["logits"])]
    graph = helper.make_graph(nodes, "linear", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", *IMAGE_SHAPE])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", weights.shape[1]])],
                              [numpy_helper.from_array(weights, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what any onnxruntime >= 1.18 (the export extra's floor) reads
    return model.SerializeToString()


def facts(model: bytes) -> dict:
    return {"bytes": len(model), "sha256": hashlib.sha256(model).hexdigest()}


@pytest.fixture
def bundle(tmp_path):
    """A bundle laid out as `dnnet bundle` lays one out (the selector copied in), and images.npy beside it."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    cells = []
    for resources, accuracy, weights in zip(CELLS, ACCURACY, WEIGHTS):
        name, model = cell_name(resources.depth, resources.width), linear_model(weights)
        (folder / f"{name}.onnx").write_bytes(model)
        cells.append({"cell": name, **resources.to_dict(), "val_accuracy": accuracy, "file": f"{name}.onnx", **facts(model)})
    preprocessing = {"mean": MEAN, "std": STD, "image_shape": list(IMAGE_SHAPE), "classes": CLASSES}
    write_manifest(folder, {"format": "dnnet-bundle/1", "preprocessing": preprocessing, "cells": cells})
    shutil.copyfile(bundle_selector.__file__, folder / "select_cell.py")
    np.save(tmp_path / "images.npy", IMAGES)
    return folder


def manifest_of(bundle) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def write_manifest(bundle, manifest: dict) -> None:
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def _at_most_4_gib() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))


def select(bundle, *args: str, images=None) -> subprocess.CompletedProcess:
    """select_cell.py run as its users run it; a selector that reads /dev/zero or waits on a FIFO fails in a minute
    and 4 GiB instead of taking the machine."""
    images = bundle.parent / "images.npy" if images is None else images
    return subprocess.run([sys.executable, str(bundle / "select_cell.py"), str(bundle), *args, "--images", str(images)],
                          capture_output=True, text=True, timeout=60, preexec_fn=_at_most_4_gib if os.name == "posix" else None)


def assert_refused(result: subprocess.CompletedProcess, exit_code: int, message: str) -> None:
    """One line on stderr, nothing on stdout, and the exit code of `dnnet select` for the same mistake."""
    assert (result.returncode, result.stdout) == (exit_code, ""), result.stderr
    assert result.stderr.startswith("select_cell.py: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def outcome(parse, text: str):
    try:
        return parse(text)
    except ValueError as error:  # dnnet's UserError and the selector's BundleError both are
        return f"refused: {error}"


@pytest.mark.parametrize("text", ["2M", "150K", "2.5e6", "24m", " 7 ", "0", "1.5g", "3 k", ".5M", "1e3K",
                                  "2x", "nan", "-1", "1e999", "", "25%", "2MB", "M"])
def test_a_count_reads_as_dnnet_reads_it(text):
    assert outcome(bundle_selector.parse_count, text) == outcome(parse_count, text)


@pytest.mark.parametrize("text", ["64KiB", "1.5MB", "2048", "3 gib", "1b", "1kb", "0.5MiB", "2gb", "64 KiB", "1e3",
                                  "2M", "x", "-1", "1e999", "nan", "64kbit", "KiB"])
def test_a_size_reads_as_dnnet_reads_it(text):
    assert outcome(bundle_selector.parse_size, text) == outcome(parse_size, text)


@pytest.mark.parametrize(("budget", "cell"), [(["--macs", "2M"], 1), (["--macs", "2K"], 0), (["--memory", "4KiB"], 1),
                                              (["--macs", "2.5e3", "--memory", "0.01MB"], 0)])
def test_budgets_are_written_as_for_dnnet_select(bundle, budget, cell):
    printed = select(bundle, *budget)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0].startswith(f"cell {cell_name(CELLS[cell].depth, CELLS[cell].width)} ")
    assert lines[1].split() == expected_classes(cell)


def test_float_images_in_0_1_answer_as_the_uint8_ones_in_a_process_without_torch_or_dnnet(bundle):
    script = (f"import importlib.util, json, sys\nimport numpy as np\n"
              f"spec = importlib.util.spec_from_file_location('select_cell', {str(bundle / 'select_cell.py')!r})\n"
              f"select_cell = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(select_cell)\n"
              f"images = np.load({str(bundle.parent / 'images.npy')!r})\n"
              f"answers = [select_cell.classify({str(bundle)!r}, x, {{'macs': 2e6}})[1].tolist()\n"
              f"           for x in (images, images / 255, (images / 255).astype(np.float32))]\n"
              f"imported = sorted({{name.split('.')[0] for name in sys.modules}} & {{'torch', 'dnnet'}})\n"
              f"print(json.dumps({{'answers': answers, 'imported': imported}}))\n")
    printed = json.loads(subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True).stdout)
    assert printed["imported"] == []
    uint8_answer = [CLASSES.index(name) for name in expected_classes(1)]
    assert len(set(uint8_answer)) > 1  # the images differ in class, so pixels divided twice (all near 0) would show
    assert printed["answers"] == [uint8_answer] * 3


@pytest.mark.parametrize(("images", "message"), [
    (IMAGES.transpose(0, 2, 3, 1),
     "images are channels last, (12, 4, 5, 3); the cells take (N, 3, 4, 5): use images.transpose(0, 3, 1, 2)"),
    (IMAGES[:, :1], "images must be a batch (N, 3, 4, 5) with N >= 1, got shape (12, 1, 4, 5)"),
    (IMAGES[:, :, :2], "images must be a batch (N, 3, 4, 5) with N >= 1, got shape (12, 3, 2, 5)"),
    (IMAGES[0], "images must be a batch (N, 3, 4, 5) with N >= 1, got shape (3, 4, 5)"),
    (IMAGES.astype(np.float32),
     "float images must be pixels / 255, in [0, 1] (the selector applies the mean and std itself); got values from 0 to 255"),
    (IMAGES.astype(np.int64), "images must be uint8 (0..255) or float in [0, 1], got int64"),
    (None, "cannot read images from"),
], ids=["channels_last", "one_channel", "smaller", "no_batch_axis", "float_0_255", "int64", "missing_file"])
def test_images_the_cells_cannot_take_are_refused_in_one_line(bundle, tmp_path, images, message):
    path = tmp_path / "given.npy"
    if images is not None:
        np.save(path, images)
    assert_refused(select(bundle, "--macs", "2e6", images=path), 2, message)


def with_cell_file(bundle, file: str) -> None:
    """The manifest's best cell (the one chosen without a budget) points at `file`."""
    manifest = manifest_of(bundle)
    manifest["cells"][1]["file"] = file
    write_manifest(bundle, manifest)


@pytest.mark.parametrize(("where", "message"), [("../elsewhere.onnx", "is not inside the bundle"),
                                                ("{tmp}/elsewhere.onnx", "is not inside the bundle"),
                                                ("/dev/zero", "is not inside the bundle"),
                                                ("link.onnx", "is a link to {tmp}/elsewhere.onnx, outside the bundle")],
                         ids=["parent", "absolute", "dev_zero", "symlink_out"])
def test_a_cell_file_outside_the_bundle_is_refused(bundle, tmp_path, where, message):
    shutil.copyfile(bundle / "2x2.onnx", tmp_path / "elsewhere.onnx")  # the very model: only where it lies is wrong
    (bundle / "link.onnx").symlink_to(tmp_path / "elsewhere.onnx")
    with_cell_file(bundle, where.format(tmp=tmp_path))
    assert_refused(select(bundle), 2, message.format(tmp=tmp_path.resolve()))


def test_the_manifest_itself_must_be_a_file_inside_the_bundle(bundle, tmp_path):
    (tmp_path / "manifest.json").write_text((bundle / "manifest.json").read_text())  # a good manifest, in the wrong place
    (bundle / "manifest.json").unlink()
    assert_refused(select(bundle), 2, f"the manifest {bundle.resolve() / 'manifest.json'}: No such file or directory")
    (bundle / "manifest.json").symlink_to(tmp_path / "manifest.json")
    outside = tmp_path.resolve() / "manifest.json"
    assert_refused(select(bundle), 2, f"the manifest 'manifest.json' is a link to {outside}, outside the bundle")


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_cell_file_that_is_not_a_regular_file_is_refused_unread(bundle, kind):
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs on this system")
        os.mkfifo(bundle / "cell.onnx")
    else:
        (bundle / "cell.onnx").mkdir()
    with_cell_file(bundle, "cell.onnx")
    assert_refused(select(bundle), 2, f"{(bundle / 'cell.onnx').resolve()} is not a regular file")


def test_a_cell_file_of_another_size_than_recorded_is_refused_before_it_is_hashed(bundle):
    model = (bundle / "2x2.onnx").read_bytes()
    (bundle / "2x2.onnx").write_bytes(model + b"\0")
    assert_refused(select(bundle), 2, f"is {len(model) + 1} bytes, manifest.json records {len(model)}: the bundle was changed or damaged")


def test_an_older_manifest_without_sizes_works_and_reads_at_most_2_gib_of_a_file(bundle):
    manifest = manifest_of(bundle)
    for cell in manifest["cells"]:
        del cell["bytes"]
    write_manifest(bundle, manifest)
    printed = select(bundle)
    assert printed.returncode == 0 and printed.stdout.splitlines()[1].split() == expected_classes(1), printed.stderr
    with open(bundle / "huge.onnx", "wb") as huge:
        huge.truncate(2**31 + 1)  # sparse: takes no disk, and is refused from its size alone
    with_cell_file(bundle, "huge.onnx")
    assert_refused(select(bundle), 2, f"is {2**31 + 1} bytes, over the {2**31} such a file can hold")


def test_a_file_onnxruntime_cannot_load_is_refused_in_one_line(bundle):
    manifest = manifest_of(bundle)
    (bundle / "2x2.onnx").write_bytes(b"not a model")
    manifest["cells"][1].update(facts(b"not a model"))  # the manifest agrees: only onnxruntime can tell
    write_manifest(bundle, manifest)
    assert_refused(select(bundle), 2, "2x2.onnx is not a model onnxruntime can load: ")


def _set(path: tuple, value):
    def change(manifest: dict) -> str:
        *parents, last = path
        record = manifest
        for key in parents:
            record = record[key]
        if value is KeyError:
            del record[last]
        else:
            record[last] = value
        return json.dumps(manifest)
    return change


@pytest.mark.parametrize(("change", "message"), [
    (lambda manifest: '{"format": "dnnet-bundle/1", "cells": [', "manifest.json is not valid JSON: "),
    (_set(("cells",), KeyError), "manifest.json: the manifest has no 'cells'"),
    (_set(("cells",), []), "manifest.json: 'cells' of the manifest must be a non-empty list, got []"),
    (_set(("cells", 0, "macs"), "2M"), "manifest.json: 'macs' of cells[0] must be a number >= 0, got '2M'"),
    (_set(("cells", 1, "val_accuracy"), float("nan")), "manifest.json: 'val_accuracy' of cells[1] must be a number, got nan"),
    (_set(("cells", 1, "sha256"), KeyError), "manifest.json: cells[1] has no 'sha256'"),
    (_set(("preprocessing", "std"), [0.2, 0.0, 0.3]),
     "'std' of the preprocessing must be a list of 3 numbers, one per channel, each above 0, got [0.2, 0.0, 0.3]"),
    (_set(("preprocessing", "classes"), CLASSES[:2]),
     "cell 2x2 gives scores of shape (12, 3) for 12 images, but manifest.json names 2 classes"),
    (_set(("format",), "dnnet-bundle/2"), "is format 'dnnet-bundle/2'; this select_cell.py reads dnnet-bundle/1"),
], ids=["bad_json", "no_cells", "empty_cells", "string_macs", "nan_accuracy", "no_sha256", "zero_std", "too_few_classes", "format"])
def test_a_broken_manifest_is_one_line_and_exit_2(bundle, change, message):
    (bundle / "manifest.json").write_text(change(manifest_of(bundle)))
    assert_refused(select(bundle), 2, message)


@pytest.mark.parametrize(("budget", "message"), [
    (["--macs", "nan"], "a MAC budget is a number with an optional K, M or G (e.g. 24M, 150K, 2.5e6), got 'nan'"),
    (["--macs", "-1"], "a MAC budget is a number with an optional K, M or G (e.g. 24M, 150K, 2.5e6), got '-1'"),
    (["--macs", "0"], "a budget must be positive, got macs <= 0.0"),
    (["--memory", "2x"], "a memory size is a number with an optional unit (B, KB, KiB, MB, MiB, GB, GiB), got '2x'"),
    (["--macs"], "argument --macs: expected one argument"),
])
def test_a_bad_budget_is_one_line_and_exit_2(bundle, budget, message):
    assert_refused(select(bundle, *budget), 2, message)


@pytest.mark.parametrize("limits", [{"macs": 500.0}, {"macs": 2000.0, "peak_act_bytes": 6144.0}], ids=["macs", "together"])
def test_no_cell_fits_is_exit_4_with_the_message_of_dnnet_select(bundle, limits):
    args = ["--macs", f"{limits['macs']:g}"] + (["--memory", f"{limits['peak_act_bytes']:g}B"] if "peak_act_bytes" in limits else [])
    result = select(bundle, *args)
    assert_refused(result, 4, "no cell fits: ")
    assert result.stderr == f"select_cell.py: error: {explain_infeasible(CELLS, Budget(limits))}\n"


@pytest.mark.parametrize(("limits", "exit_code", "message"), [
    ({"macs": float("nan")}, 2, "a budget must be positive, got macs <= nan"),
    ({"macs": -1}, 2, "a budget must be positive, got macs <= -1"),
    ({"macs": "2M"}, 2, "a budget must be positive, got macs <= '2M'"),
    ({"flops": 1e6}, 2, "unknown resource 'flops'"),
    ({"macs": 500}, 4, "no cell fits: MACs <= 500 rules out every cell"),
])
def test_the_python_api_raises_a_value_error_that_carries_the_exit_code(bundle, limits, exit_code, message):
    with pytest.raises(bundle_selector.BundleError, match=re.escape(message)) as error:
        bundle_selector.classify(bundle, IMAGES, limits)
    assert isinstance(error.value, ValueError) and error.value.exit_code == exit_code
