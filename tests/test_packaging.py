"""The package's version has one source."""

import importlib.metadata
import pathlib
import re

import pytest

import vocal_xai

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_installed_version_is_the_package_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", vocal_xai.__version__)
    assert importlib.metadata.version("vocal-xai") == vocal_xai.__version__


def test_setup_holds_no_version_of_its_own():
    assert "__version__" in (ROOT / "vocal_xai" / "__init__.py").read_text()
    assert not re.search(r"version\s*=\s*[\"']\d", (ROOT / "setup.py").read_text())


def _imported_modules(path):
    """The vocal_xai modules a source file imports (at any depth)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.startswith("vocal_xai")}


@pytest.mark.slow
def test_layers_import_downwards_only():
    # Models and metrics sit below explain: nothing there may import it.
    for layer in ("models", "metrics", "data"):
        for path in sorted((ROOT / "vocal_xai" / layer).rglob("*.py")):
            upward = {n for n in _imported_modules(path) if n.startswith("vocal_xai.explain")}
            assert not upward, f"{path.relative_to(ROOT)} imports {sorted(upward)}"


def test_import_vocal_xai_is_light():
    import subprocess
    import sys

    code = (
        "import sys, vocal_xai; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_library_module_reads_the_working_folder():
    pattern = re.compile(r"os\.getcwd|Path\.cwd|Path\(\s*[\"'](\.|runs|docs)[\"'/]")
    for path in sorted((ROOT / "vocal_xai").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
