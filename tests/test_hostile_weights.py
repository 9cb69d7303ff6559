"""A weights folder nobody vouches for: whatever its config.json and model.safetensors hold, loading it ends in the
network or in one UserError naming the file, before a network the file cannot hold is built."""

import json
import struct
import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from dnnet import DNNet, SubNet, create_model, slice_subnet
from dnnet.cli.main import main
from dnnet.errors import UserError


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    create_model("dnnet_resnet8_g4", image_size=8, cell_heads=True).eval().save_pretrained(tmp_path / "net")
    return tmp_path / "net"


def edit_config(folder, change):
    record = json.loads((folder / "config.json").read_text())
    change(record)
    (folder / "config.json").write_text(json.dumps(record))


def set_field(field, value):
    return lambda record: record["net_config"].__setitem__(field, value)


# each would have built a network of billions of weights before looking at the file (23 GB in one case)
@pytest.mark.parametrize("field, value, message", [
    ("blocks_per_stage", 10**9, "too few for a network of 3000000000 blocks"),
    ("groups", 10**9, "too few for 4,000,000,000 channels"),
    ("group_channels", [1, 2, 10**9], "too few for 4,000,000,000 channels"),
    ("num_classes", 10**9, "too few for 1,000,000,000 classes"),
    ("in_channels", 10**9, "too few for 4,000,000,000 input channels"),
    ("groups", 8, "does not fit the network in config.json"),
])
def test_a_config_larger_than_its_weights_is_refused_before_building(folder, field, value, message):
    edit_config(folder, set_field(field, value))
    with pytest.raises(UserError, match=message):
        DNNet.from_pretrained(folder)


@pytest.mark.parametrize("change, message", [
    (lambda r: r.pop("network"), "'network' must say which kind"),
    (lambda r: r.__setitem__("network", "dnnet"), "'network' must say which kind"),
    (lambda r: r.__setitem__("network", {}), "'network' must say which kind"),
    (lambda r: r.pop("net_config"), "has no 'net_config'"),
    (lambda r: r.__setitem__("net_config", [1, 2]), "'net_config' must be a JSON object"),
    (lambda r: r["net_config"].__setitem__("group_channels", "abc"), "group_channels must be positive integers \\(one per stage\\)"),
    (lambda r: r["net_config"].__setitem__("causal", "no"), "causal must be true or false"),
    (lambda r: r["net_config"].__setitem__("cell_heads", 1), "cell_heads must be true or false"),
    (lambda r: r["net_config"].__setitem__("colour", "red"), "unknown NetConfig keys"),
])
def test_a_config_with_missing_or_mistyped_keys_is_one_line(folder, change, message):
    edit_config(folder, change)
    with pytest.raises(UserError, match=message):
        DNNet.from_pretrained(folder)


def test_deeply_nested_json_and_a_cell_without_its_place_are_one_line(folder, tmp_path):
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError, match="nested too deeply|holds a JSON list"):
        DNNet.from_pretrained(folder)
    model = create_model("dnnet_resnet8_g4", image_size=8).eval()
    slice_subnet(model, 2, 3).save_pretrained(tmp_path / "cell")
    edit_config(tmp_path / "cell", lambda r: r["network"].pop("depth"))
    with pytest.raises(UserError, match="needs its depth and width"):
        SubNet.from_pretrained(tmp_path / "cell")


def rewrite_weights(folder, change):
    from safetensors.torch import load_file

    state = load_file(str(folder / "model.safetensors"))
    change(state)
    save_file(state, str(folder / "model.safetensors"))


@pytest.mark.parametrize("dtype, message", [(torch.int32, "holds I32 values where the network has floating-point weights"),
                                            (torch.bool, "holds BOOL values where the network has floating-point weights")])
def test_weights_that_are_not_numbers_of_the_networks_kind_are_refused(folder, dtype, message):
    rewrite_weights(folder, lambda state: state.__setitem__("stem.weight", state["stem.weight"].to(dtype)))
    with pytest.raises(UserError, match=f"stem.weight {message}"):
        DNNet.from_pretrained(folder)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(folder, value):
    rewrite_weights(folder, lambda state: state["blocks.1.conv1.weight"].view(-1).__setitem__(0, value))
    with pytest.raises(UserError, match="blocks.1.conv1.weight holds NaN or infinite values"):
        DNNet.from_pretrained(folder)


@pytest.mark.parametrize("dtype, name", [(torch.bfloat16, "BF16"), (torch.float64, "F64")])
def test_other_float_types_load_with_a_warning(folder, dtype, name):
    expected = DNNet.from_pretrained(folder).state_dict()["stem.weight"].to(dtype).float()
    rewrite_weights(folder, lambda state: state.__setitem__("stem.weight", state["stem.weight"].to(dtype)))
    with pytest.warns(UserWarning, match=f"{name} weights are cast to float32"):
        loaded = DNNet.from_pretrained(folder)
    assert torch.equal(loaded.state_dict()["stem.weight"], expected)


def test_a_header_pointing_outside_its_file_is_refused(folder):
    path = folder / "model.safetensors"
    data = path.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + length])
    header["stem.weight"]["data_offsets"][1] += 10**12
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length :])
    with pytest.raises(UserError, match="tensor 'stem.weight' points outside the file"):
        DNNet.from_pretrained(folder)


def test_the_command_line_says_it_in_one_line(folder, capsys):
    edit_config(folder, set_field("blocks_per_stage", 10**9))
    assert main(["eval", "--weights", str(folder), "--data", "digits", "--split", "test"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "too few for a network of 3000000000 blocks" in err


values = st.one_of(st.integers(-10, 10**12), st.text(max_size=5), st.booleans(), st.none(), st.floats(allow_nan=True),
                   st.lists(st.integers(-3, 10**10), max_size=4))
fields = st.sampled_from(["blocks_per_stage", "groups", "group_channels", "in_channels", "num_classes", "image_size", "causal",
                          "shortcut", "head_reduction", "cell_heads", "exits", "width_conditioning"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(fields, values, min_size=1, max_size=3))
def test_any_config_loads_or_is_refused_in_one_line(folder, changes):
    record = json.loads((folder / "config.json").read_text())
    original = json.dumps(record)
    record["net_config"].update(changes)
    (folder / "config.json").write_text(json.dumps(record))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            DNNet.from_pretrained(folder)
    except UserError as error:
        assert "\n" not in str(error)
    finally:
        (folder / "config.json").write_text(original)
