"""A new user's first session with an installed dnnet (argv[1]: where dnnet must come from); prints one JSON line.
Run from an empty folder by tests/test_wheel_install.py and bench/fresh_venv_check.sh."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import onnx

import dnnet
from dnnet import DNNet


def dnnet_command(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "dnnet", *args], capture_output=True, text=True)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def main() -> None:
    assert Path(dnnet.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), dnnet.__file__
    dnnet_command("train", "--preset", "dnnet_resnet8_g4", "--epochs", "1", "--batch-size", "256", "--out", "run", "--quiet")
    dnnet_command("pretrained", "run", "--out", "weights")
    model = DNNet.from_pretrained("weights")
    evaluated = dnnet_command("eval", "--weights", "weights", "--data", "digits")
    dnnet_command("export", "run", "--cell", "4x2", "--format", "onnx", "--out", "cell.onnx")
    metadata = {p.key: p.value for p in onnx.load("cell.onnx").metadata_props}
    metadata["preprocessing"] = sorted(json.loads(metadata["dnnet_preprocessing"]))
    dnnet_command("report", "run")
    elsewhere = Path("mailed")
    elsewhere.mkdir()
    shutil.copy(Path("run") / "report.html", elsewhere / "report.html")  # a report opened away from its run folder
    dnnet_command("simulate", "run", "--trace", "contention")  # a trace shipped inside the package
    shipped = dnnet.create_model("dnnet_resnet20_g8", pretrained=True)  # weights inside the wheel, checked by sha256
    # a weights folder, and the shipped weights by name, through select, export and bundle as a run goes
    from_weights = {"select": json.loads(dnnet_command("select", "weights", "--macs", "50%", "--json")),
                    "select_run": json.loads(dnnet_command("select", "run", "--macs", "50%", "--json")),
                    "select_shipped": json.loads(dnnet_command("select", "dnnet_resnet20_g8", "--macs", "25%", "--json")),
                    "export": json.loads(dnnet_command("export", "weights", "--cell", "4x2", "--format", "onnx", "--out",
                                                       "from_weights.onnx", "--json"))["cell"],
                    "bundle": json.loads(dnnet_command("bundle", "weights", "--out", "bundle", "--json"))["cells"],
                    "card": (Path("weights") / "README.md").read_text().splitlines()[0]}
    print(json.dumps({"groups": model.config.groups, "shipped_groups": shipped.config.groups, "eval": evaluated, "metadata": metadata,
                      "report": (elsewhere / "report.html").read_text(), "from_weights": from_weights}))


if __name__ == "__main__":
    main()
