"""The package's layout rule, read from the code's imports (every import, also inside functions):

* the shared tools (``companion/*.py``) import no paper folder and nothing of ``companion.book``;
* a paper's folder (``companion/papers/<paper>/``) imports the shared tools and its own modules,
  never another paper's folder nor the book machinery; only ``papers/synthesis`` reads them all;
* the book machinery (``companion/book/``) imports the shared tools, not the papers;
* ``companion/__main__.py``, the command line, only dispatches and may reach every part.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "companion"
SYNTHESIS = "synthesis"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every ``companion`` module a file imports (``from companion.x
    import y`` counts as importing ``companion.x.y`` as well, since ``y`` may be a module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "companion" or name.startswith("companion.")]


def part_of(dotted: str) -> tuple[str, str | None]:
    """``("shared", None)``, ``("book", None)`` or ``("papers", paper)`` for a module name."""
    parts = dotted.split(".")
    if len(parts) > 1 and parts[1] == "book":
        return "book", None
    if len(parts) > 1 and parts[1] == "papers":
        return "papers", parts[2] if len(parts) > 2 else None
    return "shared", None


def violations(package: Path) -> list[str]:
    """Every import in ``package`` that breaks the layout rule, as ``file:line: message``."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        dotted = ".".join(("companion",) + path.relative_to(package).with_suffix("").parts)
        if dotted == "companion.__main__":
            continue
        part, paper = part_of(dotted)
        for line, name in imported_modules(path):
            to_part, to_paper = part_of(name)
            where = f"{path.relative_to(package)}:{line}"
            if part == "shared" and to_part != "shared":
                problems.append(f"{where}: a shared tool imports {name}")
            elif part == "book" and to_part == "papers":
                problems.append(f"{where}: the book machinery imports a paper's module {name}")
            elif part == "papers" and to_part == "book":
                problems.append(f"{where}: a paper imports the book machinery {name}")
            elif part == "papers" and to_part == "papers" and paper not in (to_paper, SYNTHESIS) and to_paper:
                problems.append(f"{where}: papers/{paper} imports papers/{to_paper} ({name})")
    return problems


def test_every_import_follows_the_layout_rule():
    assert violations(PACKAGE) == []


def test_every_chapter_has_its_paper_folder_and_every_folder_a_chapter():
    chapters = {p.stem for p in (PACKAGE.parents[1] / "book" / "notebooks").glob("*.md")}
    folders = {p.name for p in (PACKAGE / "papers").iterdir() if (p / "__init__.py").exists()}
    assert chapters == folders


def _tree(tmp_path, files: dict) -> Path:
    for name, text in files.items():
        path = tmp_path / "companion" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "companion"


def test_the_rule_catches_a_paper_that_imports_another(tmp_path):
    package = _tree(
        tmp_path,
        {
            "attacks.py": "import numpy\n",
            "papers/a/experiments.py": "from companion import attacks\nfrom companion.papers.a import claims\n",
            "papers/b/experiments.py": "def f():\n    from companion.papers.a import experiments\n",
            "papers/c/figures.py": "from companion.papers import a\n",
            "papers/synthesis/experiments.py": "from companion.papers.a import experiments\n",
        },
    )
    assert violations(package) == [
        "papers/b/experiments.py:2: papers/b imports papers/a (companion.papers.a)",
        "papers/b/experiments.py:2: papers/b imports papers/a (companion.papers.a.experiments)",
        "papers/c/figures.py:1: papers/c imports papers/a (companion.papers.a)",
    ]


def test_the_rule_catches_shared_tools_and_book_that_reach_into_papers(tmp_path):
    package = _tree(
        tmp_path,
        {
            "training.py": "from companion.papers.a import penalties\n",
            "book/scorecard.py": "import companion.papers.a.claims\nfrom companion import profiles\n",
            "papers/a/claims.py": "from companion.book import sources\n",
        },
    )
    assert violations(package) == [
        "book/scorecard.py:1: the book machinery imports a paper's module companion.papers.a.claims",
        "papers/a/claims.py:1: a paper imports the book machinery companion.book",
        "papers/a/claims.py:1: a paper imports the book machinery companion.book.sources",
        "training.py:1: a shared tool imports companion.papers.a",
        "training.py:1: a shared tool imports companion.papers.a.penalties",
    ]


MAX_CELL_LINES = 12


def code_cells(path: Path) -> list[list[str]]:
    """The code lines of each code cell of a MyST notebook (its ``:option:`` lines left out)."""
    cells = []
    for block in path.read_text().split("```{code-cell}")[1:]:
        lines = block.split("\n```")[0].split("\n")[1:]
        cells.append([line for line in lines if not line.startswith(":")])
    return cells


def test_notebook_cells_are_short_calls():
    """Chapters are prose plus short calls: the logic lives in the paper's folder."""
    notebooks = sorted((PACKAGE.parents[1] / "book" / "notebooks").glob("*.md"))
    long = [
        f"{path.name} cell {k}: {len(cell)} lines"
        for path in notebooks
        for k, cell in enumerate(code_cells(path), 1)
        if len(cell) > MAX_CELL_LINES
    ]
    assert notebooks and long == []


def test_cell_counting_leaves_out_options(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```{code-cell} ipython3\n:tags: [x]\na = 1\nb = 2\n```\n\nmore\n")
    assert code_cells(page) == [["a = 1", "b = 2"]]
