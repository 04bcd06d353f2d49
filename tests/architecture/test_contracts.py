"""The import-linter contracts of pyproject.toml bite: one wrong import in a copy of the tree fails
`lint-imports` with the contract it broke and the import that broke it; the tree as it is passes."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["name"] for contract in CONFIG["contracts"]}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contract(words: str) -> str:
    """The one contract whose name contains these words (so a renamed contract fails here, loudly)."""
    (name,) = [name for name in CONTRACTS if words in name]
    return name


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the packages the contracts cover, with the same configuration."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    # A wide terminal keeps each contract's name on one line of the report.
    env = {**os.environ, "COLUMNS": "1000", "NO_COLOR": "1"}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=60)


def test_the_tree_as_it_is_keeps_every_contract(tree):
    result = lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in result.stdout


# (module to change, the import added to it, words of the contract it breaks, the import chain reported)
VIOLATIONS = [
    (
        "devices/services.py",
        "from integrations import registry",
        "devices imports neither integrations nor bots",
        "devices.services -> integrations.registry",
    ),
    (
        "integrations/outbound/errors.py",
        "from config import models",
        "integrations.outbound is a library",
        "integrations.outbound.errors -> config.models",
    ),
    (
        "integrations/outbound/errors.py",
        "from integrations import models",
        "integrations.outbound is a library",
        "integrations.outbound.errors -> integrations.models",
    ),
    (
        "devices/selectors.py",
        "from devices import services",
        "devices: entry points",
        "devices.selectors -> devices.services",
    ),
    (
        "integrations/secrets/crypto.py",
        "from integrations.runs import services",
        "integrations: api and admin above connections",
        "integrations.secrets.crypto -> integrations.runs.services",
    ),
    (
        "integrations/runs/selectors.py",
        "from integrations.runs import services",
        "Within each integrations package",
        "integrations.runs.selectors -> integrations.runs.services",
    ),
    (
        "integrations/webhooks/signatures.py",
        "from integrations.webhooks import receiving",
        "webhooks: the views above tasks",
        "integrations.webhooks.signatures -> integrations.webhooks.receiving",
    ),
    ("devices/topics.py", "from devices import models", "No import cycles", ".topics -> .models"),
    ("config/urls.py", "from devices import tasks", "A Celery task module", "config.urls -> devices.tasks"),
]


@pytest.mark.parametrize(("module", "line", "words", "chain"), VIOLATIONS, ids=[v[3] for v in VIOLATIONS])
def test_a_wrong_import_fails_with_the_rule_it_broke(tree, module, line, words, chain):
    with (tree / module).open("a") as source:
        source.write(f"\n{line}  # the violation under test\n")

    result = lint_imports(tree)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract(words)} BROKEN" in result.stdout
    assert chain in result.stdout.split("Broken contracts", 1)[1]
