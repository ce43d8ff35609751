"""constraints.txt pins what CI and the image install; it must stay within pyproject.toml's ranges."""

from __future__ import annotations

from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: `{line}` is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def test_every_dependency_is_pinned_inside_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = _pins(ROOT / "constraints.txt")
    problems = []
    for requirement in declared:
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not in constraints.txt")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}=={pinned} is outside {requirement.specifier}")
    assert problems == [], "run scripts/lock.sh after changing pyproject.toml: " + "; ".join(problems)


def test_the_pyairbyte_pins_hold_the_tested_pyairbyte():
    pins = _pins(ROOT / "integration_tests" / "pyairbyte-constraints.txt")
    test_script = (ROOT / "scripts" / "test.sh").read_text()
    assert f'"airbyte=={pins["airbyte"]}"' in test_script
