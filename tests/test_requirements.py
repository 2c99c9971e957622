"""The locked dependency tree agrees with pyproject.toml, and the environment is exactly the locked set."""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
PROJECT = "kumpul"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?")
_VIA = re.compile(r"^\s*#\s+(?:via\s+)?(?P<source>\S.*)$")


@dataclass
class Pin:
    """One locked release: its version, the markers it applies under, its hashes and what asked for it."""

    name: str
    version: Version
    marker: str | None
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)

    def applies(self) -> bool:
        marker = Requirement(f"{self.name}; {self.marker}").marker if self.marker else None
        return marker is None or marker.evaluate()


def read_lock(path: Path) -> list[Pin]:
    """The pins of a `uv pip compile` lock file, with the `# via` lines that follow each."""
    pins: list[Pin] = []
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            marker = match.group("marker")
            pins.append(
                Pin(canonicalize_name(match.group("name")), Version(match.group("version")), marker and marker.strip())
            )
        elif line.strip().startswith("--hash=sha256:"):
            pins[-1].hashes.append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif pins and (via := _VIA.match(line)) and via.group("source") != "via":
            pins[-1].via.append(via.group("source").strip())
    return pins


def direct_requirements(*, extras: tuple[str, ...], inputs: tuple[str, ...]) -> list[Requirement]:
    """What pyproject.toml (with ``extras``) and the ``requirements/*.in`` files ask for by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    for name in inputs:
        lines += [
            text for raw in (REQUIREMENTS / name).read_text().splitlines() if (text := raw.split("#", 1)[0].strip())
        ]
    return [Requirement(line) for line in lines]


LOCKS = {
    "serve.txt": direct_requirements(extras=(), inputs=("build.in",)),
    "dev.txt": direct_requirements(extras=("test", "bench"), inputs=("build.in", "tools.in")),
}


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_requirement_is_locked_within_its_range(lock: str) -> None:
    pins = read_lock(REQUIREMENTS / lock)
    assert pins, f"requirements/{lock} holds no pins"
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)
    for requirement in LOCKS[lock]:
        name = canonicalize_name(requirement.name)
        assert name in by_name, f"{requirement} is asked for but not in requirements/{lock}: run `make lock`"
        for pin in by_name[name]:
            assert requirement.specifier.contains(pin.version, prereleases=True), (
                f"requirements/{lock} pins {name}=={pin.version}, outside {requirement}: run `make lock`"
            )


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_nothing_is_locked_that_no_requirement_asks_for_any_more(lock: str) -> None:
    wanted = {canonicalize_name(requirement.name) for requirement in LOCKS[lock]}
    for pin in read_lock(REQUIREMENTS / lock):
        direct = [source for source in pin.via if source.startswith((PROJECT, "-r "))]
        assert not direct or pin.name in wanted, (
            f"requirements/{lock} still locks {pin.name} for {direct}, which no longer asks for it: run `make lock`"
        )
        assert pin.via, f"requirements/{lock}: nothing asks for {pin.name}"


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_carries_hashes(lock: str) -> None:
    for pin in read_lock(REQUIREMENTS / lock):
        assert pin.hashes, f"requirements/{lock}: {pin.name} has no --hash, so pip cannot check what it installs"
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in pin.hashes), pin.name


def test_serving_uses_the_same_versions_as_the_tests() -> None:
    dev = {(pin.name, pin.marker): pin.version for pin in read_lock(REQUIREMENTS / "dev.txt")}
    for pin in read_lock(REQUIREMENTS / "serve.txt"):
        assert dev.get((pin.name, pin.marker)) == pin.version, (
            f"{pin.name} is {pin.version} for serving but {dev.get((pin.name, pin.marker))} for the tests"
        )


def test_this_environment_is_exactly_the_locked_set() -> None:
    locked = {pin.name: pin.version for pin in read_lock(REQUIREMENTS / "dev.txt") if pin.applies()}
    installed = {
        canonicalize_name(dist.metadata["Name"]): Version(dist.version)
        for dist in metadata.distributions()
        if canonicalize_name(dist.metadata["Name"]) != PROJECT
    }
    differ = {
        name: (installed.get(name), version) for name, version in locked.items() if installed.get(name) != version
    }
    assert not differ, (
        f"installed vs locked: {differ}; `touch requirements/dev.txt && make test` installs the locked set"
    )


def test_the_reader_sees_markers_and_multi_line_via() -> None:
    pins = {pin.name: pin for pin in read_lock(REQUIREMENTS / "dev.txt")}
    assert pins["cryptography"].via[0] == "kumpul (pyproject.toml)"
    assert len(pins["cryptography"].via) > 1
    windows_only = Pin("colorama", Version("1"), "sys_platform == 'win32'")
    assert windows_only.applies() is (sys.platform == "win32")
    assert Pin("pip", Version("1"), None).applies()
