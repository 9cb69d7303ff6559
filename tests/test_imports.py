"""Importing the library does nothing a user would notice: no backend switch, no loop between packages."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "dnnet"
# each package may import only those listed below it: layers -> models -> slicing/accounting ->
# loss/evaluation/selection -> runs (reading a run) -> train/anytime/deploy -> experiments -> cli
LAYERS = [
    {"errors", "utils", "config"},
    {"layers", "data"},
    {"models"},
    {"slicing", "accounting"},
    {"loss", "evaluation", "selection", "baselines"},
    {"runs"},
    {"train", "anytime", "deploy"},
    {"reporting"},
    {"experiments"},
    {"cli", "__main__"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names} | {"__init__": len(LAYERS) - 2}
# the root package re-exports models, slicing and accounting: only experiments and cli may import from it


def dnnet_imports(path: Path) -> set[str]:
    """The top-level dnnet packages or modules that a file imports, wherever the import stands."""
    found = set()
    package = ["dnnet", *path.relative_to(SOURCE).parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:  # relative: resolved against the file's package
            base = package[: len(package) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            names = module.split(".")[1:2] or [alias.name for alias in node.names]
            found.update(names)
        elif isinstance(node, ast.ImportFrom) and node.module == "dnnet":  # from dnnet import create_model: the root
            found.add("__init__")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dnnet."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("dnnet."))
    return found


@pytest.mark.parametrize("path", sorted(p for p in SOURCE.rglob("*.py") if p.parent != SOURCE or p.stem != "__init__"),
                         ids=lambda p: str(p.relative_to(SOURCE)))
def test_packages_import_only_downwards(path):
    package = path.relative_to(SOURCE).parts[0].removesuffix(".py")
    upward = {name for name in dnnet_imports(path) if LEVEL[name] > LEVEL[package]}
    assert not upward, f"{path.relative_to(SOURCE)} imports {sorted(upward)}, which stand above {package}"


# what trains runs, beside train/ itself; every other module reads runs through dnnet.runs
TRAINS = {"cli/train_command.py", "cli/demo_command.py", "experiments/run_store.py"}


def imports_train(path: Path) -> bool:
    return "train" in dnnet_imports(path)


@pytest.mark.parametrize("path", sorted(p for p in SOURCE.rglob("*.py") if p.relative_to(SOURCE).parts[0] != "train"),
                         ids=lambda p: str(p.relative_to(SOURCE)))
def test_only_what_trains_imports_train(path):
    name = path.relative_to(SOURCE).as_posix()
    assert imports_train(path) == (name in TRAINS), f"{name} {'imports' if name not in TRAINS else 'no longer imports'} dnnet.train"


def test_reading_a_run_loads_no_training_code():
    readers = ["dnnet.runs", "dnnet.deploy.bundle", "dnnet.deploy.pretrained_from_run", "dnnet.reporting.run_report",
               *(f"dnnet.cli.{name}_command" for name in ("anytime", "budgeted", "bundle", "eval", "export", "latency", "select",
                                                          "simulate", "pretrained", "report"))]
    script = (f"import importlib, sys\nfor name in {readers!r}:\n    importlib.import_module(name)\n"
              "loaded = sorted(m for m in sys.modules if m == 'dnnet.train' or m.startswith('dnnet.train.'))\nassert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_no_loop_between_packages():
    graph = {}
    for path in SOURCE.rglob("*.py"):
        package = path.relative_to(SOURCE).parts[0].removesuffix(".py")
        graph.setdefault(package, set()).update(dnnet_imports(path) - {package, "__init__"})
    done, on_path = set(), []

    def visit(package):
        assert package not in on_path, f"import loop: {' -> '.join(on_path[on_path.index(package):] + [package])}"
        if package not in done:
            on_path.append(package)
            for imported in sorted(graph.get(package, ())):
                visit(imported)
            on_path.pop()
            done.add(package)

    for package in sorted(graph):
        visit(package)


def test_every_package_has_a_layer():
    packages = {p.stem if p.is_file() else p.name for p in SOURCE.iterdir()
                if (p.suffix == ".py" or p.is_dir()) and p.name not in ("__init__.py", "__pycache__")}  # not py.typed
    assert {name.removesuffix(".py") for name in packages} <= set(LEVEL)


def test_importing_keeps_the_users_matplotlib_backend():
    script = ("import matplotlib; matplotlib.use('svg'); b = matplotlib.get_backend(); "
              "import dnnet.train, dnnet.evaluation, dnnet.reporting, dnnet.experiments, dnnet.deploy, dnnet.cli.main; "
              "assert matplotlib.get_backend() == b, matplotlib.get_backend(); "
              "import sys; assert 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-c", script], check=True)


def test_dnnet_help_imports_no_subcommand():
    script = ("import sys; from dnnet.cli.main import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "heavy = [m for m in ('matplotlib', 'onnx', 'onnxruntime', 'dnnet.train', 'dnnet.data', 'dnnet.cli.train_command') "
              "if m in sys.modules]\nassert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "train a preset; every cell of the grid at once" in done.stdout
