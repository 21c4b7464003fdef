"""The repository stands on its own: no file points outside it, the documentation's links
resolve, its install commands install this project, and scratch directories are ignored."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
# Spelled in two parts so that this file does not match itself.
OUTSIDE = ("../" + "shared", "/work/" + "shared")


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def tracked_texts() -> dict[Path, str]:
    texts = {}
    for path in _tracked():
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary fixtures, files deleted in the working tree
    return texts


@pytest.mark.slow  # reads every tracked file (a few thousand)
def test_no_tracked_file_refers_outside_the_repository(
        tracked_texts: dict[Path, str]) -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path, text in tracked_texts.items()
             for n, line in enumerate(text.splitlines(), 1)
             if any(o in line for o in OUTSIDE)]
    assert found == []


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = page.read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # `#` lines in code are not headings
    found = {_slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    return found | set(re.findall(r'<a id="([^"]+)"></a>', text))


def _pages() -> list[Path]:
    return sorted([*DOCS.glob("*.md"), *DOCS.glob("reference/*.md"), ROOT / "README.md"])


def test_relative_links_of_the_documentation_resolve() -> None:
    broken = []
    for page in _pages():
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such anchor)")
    assert broken == []


def test_install_commands_install_this_project_not_pypis_buildbot() -> None:
    """`pip install buildbot[...]` would fetch upstream Buildbot: the docs never say it
    except to warn about it."""
    command = re.compile(r"pip install\s+['\"]?buildbot(\[|['\"\s`]|$)")
    found = [f"{page.relative_to(ROOT)}: {line.strip()}"
             for page in _pages() for line in page.read_text().splitlines()
             if command.search(line) and "upstream" not in line]
    assert found == []


def test_virtualenvs_and_generated_directories_are_ignored() -> None:
    names = ["venv/bin/python", ".venv/bin/python", "sub/venv/bin/python", "bb43/bin/python",
             "build/lib/x.py", "dist/x.whl", "master/twistd.log", "worker/twistd.log",
             "my_master/twistd.log", "worker1/twistd.log", "backups/state.sqlite"]
    out = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert out.stdout.split() == names
