"""What a user gets from the built wheel alone, away from this checkout: train on the embedded digits, share the weights,
load them, evaluate, export with metadata, and a report that opens elsewhere - and the wheel declares what it imports.

The wheel is installed with --no-deps into a folder of its own and run from another folder, so every dnnet file comes
from the wheel; its dependencies come from this environment (a fresh virtual environment with CPU torch takes about
two minutes to install, too long for the suite; the README's pip section is that path)."""

import ast
import email
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dnnet.models.shipped_weights import SHIPPED

ROOT = Path(__file__).resolve().parents[1]
# the distributions behind the third-party modules dnnet imports
DISTRIBUTION_OF = {"torch": "torch", "numpy": "numpy", "PIL": "pillow", "matplotlib": "matplotlib", "tqdm": "tqdm",
                   "safetensors": "safetensors", "onnx": "onnx", "onnxruntime": "onnxruntime", "onnxscript": "onnxscript",
                   "scipy": "scipy", "tomli": "tomli", "argcomplete": "argcomplete"}

USER_SESSION = Path(__file__).with_name("wheel_user_session.py")  # bench/fresh_venv_check.sh runs it too


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from a copy of the sources (building in place would write into the checkout)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work / "dist"),
                    str(source)], check=True, capture_output=True)
    return next((work / "dist").glob("doubly_nested_networks-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_its_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("dnnet/py.typed", "dnnet/data/digits_8x8.npz", "dnnet/deploy/traces/contention.csv",
                   "dnnet/deploy/traces/memory_squeeze.csv", "dnnet/deploy/traces/random_walk.csv",
                   *(f"dnnet/models/weights/{entry['folder']}/{name}" for entry in SHIPPED.values()
                     for name in ("config.json", "model.safetensors"))):
        assert needed in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "docs/"))]


@pytest.mark.slow
def test_the_wheel_declares_every_package_it_imports(wheel):
    archive = zipfile.ZipFile(wheel)
    metadata = email.message_from_bytes(archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))))
    declared = {re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0].lower() for requirement in metadata.get_all("Requires-Dist")}
    imported = set()
    for name in archive.namelist():
        if name.endswith(".py"):
            for node in ast.walk(ast.parse(archive.read(name))):
                if isinstance(node, ast.Import):
                    imported.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"dnnet", "__future__"}
    assert third_party <= set(DISTRIBUTION_OF), f"map these modules to their distributions: {third_party - set(DISTRIBUTION_OF)}"
    assert {DISTRIBUTION_OF[module] for module in third_party} <= declared
    # what a module imports when it is imported (not inside a function or a try) must install with the package itself
    core = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0].lower() for r in metadata.get_all("Requires-Dist") if "extra ==" not in r}
    at_import = set().union(*(module_level_imports(ast.parse(archive.read(n))) for n in archive.namelist() if n.endswith(".py")))
    needed = {DISTRIBUTION_OF[m] for m in at_import - set(sys.stdlib_module_names) - {"dnnet", "__future__"}}
    assert needed <= core, f"imported at module level but only in an extra: {needed - core}"


def module_level_imports(tree: ast.Module) -> set[str]:
    """Top-level packages a module imports as it loads: its own statements and their if-branches (a version check);
    imports inside functions or try blocks load later, or are optional."""
    found, statements = set(), list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            statements += node.body + node.orelse
    return found


@pytest.mark.slow
def test_a_user_trains_shares_loads_evaluates_exports_and_mails_the_report_from_the_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    user = tmp_path / "user"  # nowhere near the checkout: no ../shared, no examples/, no git
    user.mkdir()
    shutil.copy(USER_SESSION, user / "session.py")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "session.py", str(site)], cwd=user, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["groups"] == 4 and result["shipped_groups"] == 8
    assert "4x4" in result["eval"]
    metadata = result["metadata"]
    assert metadata["dnnet_cell"] == "4x2" and {"mean", "std", "classes", "image_shape"} <= set(metadata["preprocessing"])
    assert 0.0 <= float(metadata["dnnet_val_accuracy"]) <= 1.0
    images = re.findall(r'<img [^>]*src="([^"]+)"', result["report"])
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    weights = result["from_weights"]  # a weights folder and the shipped weights by name serve as runs do
    assert weights["select"] == weights["select_run"] and weights["select_shipped"]["depth"] >= 1
    assert weights["export"] == "4x2" and weights["bundle"] and weights["card"] == "# dnnet_resnet8_g4 weights"
