"""`dnnet --help` and shell completion start without importing torch (seconds) unless a command needs it."""

import subprocess
import sys

import pytest

import dnnet
from dnnet.cli.main import completed_command


def modules_after(code):
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_command_line_module_does_not_import_torch():
    assert "torch" not in modules_after("import dnnet.cli.main; dnnet.cli.main.build_parser()")


def test_the_package_imports_torch_on_first_use_of_a_name():
    assert "torch" not in modules_after("import dnnet")
    assert "torch" in modules_after("from dnnet import DNNet")


def test_the_exported_names_are_the_lazily_imported_ones():
    assert sorted(dnnet.__all__) == sorted(dnnet._EXPORTS)


@pytest.mark.parametrize("name", dnnet.__all__)
def test_every_exported_name_resolves_to_its_module_object(name):
    assert getattr(dnnet, name).__name__ == name
    assert name in dir(dnnet)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        dnnet.Nope  # noqa: B018


@pytest.mark.parametrize("line,point,command", [
    ("dnnet s", None, None),  # the command word itself: no command module needed
    ("dnnet train", None, None),
    ("dnnet train ", None, "train"),
    ("dnnet train --auxiliary-g", None, "train"),
    ("dnnet --json tr", None, None),
    ("dnnet export run --format o", None, "export"),
    ("dnnet export run --format o", "8", None),  # the cursor inside "export"
    ("dnnet runs train --e", None, None),  # not a command: argparse will say so
    ("", None, None),
])
def test_completion_imports_only_the_command_before_the_cursor(line, point, command):
    assert completed_command(line, point) == command
