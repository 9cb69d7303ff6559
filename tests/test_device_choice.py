"""A device the machine lacks is one line and exit 2, before anything is read or written."""

import pytest
import torch

from dnnet.cli.main import main
from dnnet.errors import UserError
from dnnet.utils.device_choice import chosen_device


@pytest.mark.parametrize("spec,message", [
    ("bogus", "'bogus' is not a device"),
    ("tpu", "'tpu' is not a device"),
    ("mps", "no MPS"),
])
def test_devices_this_machine_lacks_are_refused(spec, message):
    if spec == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(UserError, match=message):
        chosen_device(spec)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("spec", ["cuda", "cuda:7"])
def test_cuda_without_a_gpu_is_refused(spec):
    with pytest.raises(UserError, match="this torch build has no CUDA, or no GPU is visible"):
        chosen_device(spec)


def test_cpu_and_the_default():
    assert chosen_device("cpu") == torch.device("cpu")
    assert chosen_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("command", ["train", "eval"])
def test_the_commands_say_it_in_one_line(tmp_path, capsys, command):
    args = ["train", "--epochs", "1", "--out", str(tmp_path / "run")] if command == "train" else ["eval", str(tmp_path / "run")]
    assert main([*args, "--device", "bogus"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"dnnet {command}: error: --device 'bogus' is not a device: "
                                                            "use cpu, cuda, cuda:N or mps"]
    assert not (tmp_path / "run").exists()
