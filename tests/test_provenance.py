"""Provenance names dnnet's own commit only when dnnet runs from its checkout; an installed copy inside someone
else's repository records that it is installed, with the dnnet version."""

import subprocess

from dnnet.utils.provenance import NOT_A_CHECKOUT, git_commit, provenance


def make_repo(root, package_parts):
    package = root.joinpath(*package_parts)
    package.mkdir(parents=True)
    (package / "provenance.py").write_text("# dnnet\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], cwd=root, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    return package, head


def test_a_checkout_of_dnnet_records_its_commit(tmp_path, monkeypatch):
    monkeypatch.delenv("DNNET_COMMIT", raising=False)
    package, head = make_repo(tmp_path / "dnnet", ["src", "dnnet"])
    assert git_commit(package) == head
    (package / "provenance.py").write_text("# changed\n")
    assert git_commit(package) == head + "+dirty"


def test_an_installed_copy_inside_a_users_repository_records_no_commit(tmp_path, monkeypatch):
    monkeypatch.delenv("DNNET_COMMIT", raising=False)
    package, _ = make_repo(tmp_path / "their_project", [".venv", "lib", "python3.11", "site-packages", "dnnet"])
    assert git_commit(package) == NOT_A_CHECKOUT


def test_an_installed_copy_outside_any_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("DNNET_COMMIT", raising=False)
    (tmp_path / "dnnet").mkdir()
    assert git_commit(tmp_path / "dnnet") == NOT_A_CHECKOUT


def test_provenance_records_the_dnnet_version():
    assert provenance()["dnnet"]


def test_every_file_records_the_command_that_wrote_it(tmp_path):
    import json
    import shlex

    from dnnet.cli.main import main
    from dnnet.utils.provenance import provenance

    argv = ["profile", "--preset", "dnnet_resnet8_g4", "--out", str(tmp_path / "profile")]
    assert main(argv) == 0
    written = json.loads((tmp_path / "profile" / "profile.json").read_text())["provenance"]["command"]
    assert written == shlex.join(["dnnet", *argv])
    assert provenance()["command"] != written  # after the command, the process's own arguments again


def test_this_checkout_records_its_own_commit(monkeypatch):
    """provenance() finds the package from its own file: the checkout that runs the tests records its commit."""
    monkeypatch.delenv("DNNET_COMMIT", raising=False)
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
    import dnnet

    if head.returncode != 0 or Path(dnnet.__file__).resolve().parent != root / "src" / "dnnet":  # an installed copy
        import pytest

        pytest.skip("not run from a git checkout")
    assert provenance()["commit"].removesuffix("+dirty") == head.stdout.strip()
