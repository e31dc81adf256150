"""README.md is a front door: short, its KPI catalogue generated
(kpi_tooling.serving.readme_catalogue) and current, docs/VARS.md generated from dbt_project.yml
(kpi_tooling.serving.vars_doc) and current, and every relative link of README.md and docs/*.md
points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpi_tooling.errors import MarkersMissing
from kpi_tooling.serving import readme_catalogue, semantic_layer, vars_doc

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_README_LINES = 200
# [text](target) and ![alt](target); a target is cut at a space (a title) or a '#' (an anchor)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>#]*)[^)]*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def markdown_pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def relative_links(page: Path) -> list[str]:
    """Relative link targets of a page, fenced code blocks left out."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    return [t for t in LINK.findall(text) if t and not EXTERNAL.match(t)]


def test_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) < MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_readme_catalogue_is_current(parsed_manifest: Path) -> None:
    """The block between the markers equals a fresh rendering from the registry seed and the
    declared KPIs of the current sources' manifest (`make semantic` rewrites it)."""
    rows = semantic_layer.read_kpis(parsed_manifest)
    current = README.read_text()
    wanted = readme_catalogue.replace_block(current, readme_catalogue.render_catalogue(rows))
    assert current == wanted, "README.md's KPI catalogue is stale: run `make semantic`"


def test_readme_catalogue_has_one_row_per_kpi_and_marks_the_demo(parsed_manifest: Path) -> None:
    rows = semantic_layer.read_kpis(parsed_manifest)
    block = readme_catalogue.render_catalogue(rows)
    table = [line for line in block.splitlines() if line.startswith("| `")]
    assert [line.split("`")[1] for line in table] == [row["kpi_id"] for row in rows]
    demo = {r["kpi_id"] for r in rows if r["origin"] == semantic_layer.DEMO_ORIGIN}
    assert demo, "the demo build declares KPIs"
    marked = {line.split("`")[1] for line in table if "demo only" in line}
    assert marked == demo


def test_stale_catalogue_is_detected(parsed_manifest: Path, tmp_path: Path) -> None:
    """--check fails on a README whose block lost a row, and rewriting makes it pass."""
    stale = tmp_path / "README.md"
    text = README.read_text()
    first_row = next(line for line in text.splitlines() if line.startswith("| `throughput_rate`"))
    stale.write_text(text.replace(first_row + "\n", ""))
    args = ["--readme", str(stale), "--manifest", str(parsed_manifest)]
    assert readme_catalogue.main([*args, "--check"]) == 1
    assert readme_catalogue.main(args) == 0
    assert readme_catalogue.main([*args, "--check"]) == 0
    assert stale.read_text() == text


def test_catalogue_markers_are_required() -> None:
    with pytest.raises(MarkersMissing):
        readme_catalogue.replace_block("no markers here", "block")


def test_vars_doc_is_current() -> None:
    wanted = vars_doc.render((ROOT / "dbt_project.yml").read_text())
    assert (ROOT / "docs" / "VARS.md").read_text() == wanted, (
        "docs/VARS.md is stale: run `make docs-md`"
    )


def test_vars_doc_describes_every_var() -> None:
    """Every var of dbt_project.yml has a row with its default and a description."""
    import yaml

    project = (ROOT / "dbt_project.yml").read_text()
    declared = yaml.safe_load(project)["vars"]
    rows = {
        line.split("`")[1]: [cell.strip() for cell in line.split(" | ")]
        for line in vars_doc.render(project).splitlines()
        if line.startswith("| `")
    }
    assert list(rows) == list(declared)
    undescribed = [name for name, cells in rows.items() if cells[-1].rstrip("|").strip() == ""]
    assert undescribed == []


def test_vars_doc_reads_comments_and_defaults() -> None:
    project = """name: x
vars:
  # Alone above one var.
  first: 1                  # and inline
  # A group of two.
  second: [a, b]            # second's own
  third: {k: v}
  # a note on its own

  fourth: null
models: {}
"""
    text = vars_doc.render(project)
    assert "| `first` | `1` | Alone above one var. and inline |" in text
    assert "A group of two.\n" in text
    assert "| `second` | `[a, b]` | second's own |" in text
    assert "| `third` | `{k: v}` |  |" in text
    assert "a note on its own\n" in text
    assert "| `fourth` | `null` |  |" in text


def test_readme_links_to_docs_that_exist() -> None:
    targets = [t for t in relative_links(README) if t.startswith("docs/")]
    assert targets, "README.md links to its docs pages"
    assert [t for t in targets if not (ROOT / t).exists()] == []


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.name)
def test_anchors_of_markdown_links_exist(page: Path) -> None:
    """A link to a heading of a markdown page (this one or another) names a real heading."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    broken = []
    for target, anchor in re.findall(r"\]\(([^)\s#]*\.md|)#([^)\s]+)\)", text):
        linked = page.parent / target if target else page
        if linked.exists() and anchor not in anchors(linked):
            broken.append(f"{target}#{anchor}")
    assert broken == []


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    missing = [t for t in relative_links(page) if not (page.parent / t).exists()]
    assert missing == [], f"{page.relative_to(ROOT)} links to missing files"


def test_link_pattern_finds_relative_links() -> None:
    page = "[a](docs/A.md) ![b](docs/b.png) [c](https://x.org) [d](#anchor) [e](../x.md#part)"
    found = [t for t in LINK.findall(page) if t and not EXTERNAL.match(t)]
    assert found == ["docs/A.md", "docs/b.png", "../x.md"]
