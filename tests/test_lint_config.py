"""The lint settings, the pre-commit hook and the lock agree with each other."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pins():
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {r.name.lower().replace("_", "-"): str(r.specifier)[2:] for r in requirements}


def test_ruff_selects_the_agreed_rule_families():
    selected = set(PYPROJECT["tool"]["ruff"]["lint"]["select"])
    assert {"F", "E", "W", "I", "B", "UP"} <= selected, selected


def test_pre_commit_runs_the_pinned_ruff():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (ruff,) = [repo for repo in config["repos"] if repo["repo"].endswith("/ruff-pre-commit")]
    assert ruff["rev"] == f"v{_pins()['ruff']}", "pre-commit's ruff differs from requirements.txt's"


def test_every_direct_dependency_is_in_the_lock():
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"].values()
    direct = project["dependencies"] + [d for extra in extras for d in extra]
    pins = _pins()
    missing = [d for d in direct if Requirement(d).name.lower().replace("_", "-") not in pins]
    assert not missing, f"direct dependencies without a pin in requirements.txt: {missing}"
