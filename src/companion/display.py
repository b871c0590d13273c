"""Results tables that the book shows as HTML tables and a text reader sees as aligned text.

A :class:`Table` keeps the fixed-width text a chapter prints (its text form: what ``print``
showed, what the comparison with the references reads) and the same cells as a header and rows,
which the book renders as an HTML table. The two cannot drift apart: each row's cells must stand,
in order, in its line of the text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# a cell that reads as a number (a sign, digits, a unit or percent sign after it, nan, a dash)
_NUMERIC = re.compile(r"^[-+−]?(\d[\d,]*(\.\d*)?([eE][-+]?\d+)?|\.\d+|nan|inf)\s*(%|°|x|s|min)?$|^[-—–]?$")


@dataclass(frozen=True)
class Table:
    """``text``: the table as fixed-width lines, ``len(header_lines)`` header lines then one line
    per row; ``header``: the column labels ``(k,)``; ``rows``: each row's cells ``(k,)`` as the
    text shows them (each a whole word or number of its line, in order). ``title`` and ``note``:
    lines of text shown above and below the table.
    Its text form (``repr``, what a notebook stores as ``text/plain``) is ``title``, ``text`` and
    ``note``, each ending with a newline, as ``print`` would have shown them."""

    text: str
    header: tuple
    rows: tuple
    title: str = ""
    note: str = ""
    header_lines: int = 1

    def __post_init__(self):
        lines = self.text.rstrip("\n").split("\n")
        if len(lines) != self.header_lines + len(self.rows):
            raise ValueError(
                f"the text has {len(lines)} lines, not {self.header_lines} header line(s) and {len(self.rows)} rows"
            )
        for k, (line, row) in enumerate(zip(lines[self.header_lines :], self.rows), 1):
            if len(row) != len(self.header):
                raise ValueError(f"row {k} has {len(row)} cells for {len(self.header)} columns")
            at = 0
            for cell in map(str, row):
                # the whole cell, not a piece of a longer word or number, after the previous one
                pattern = rf"(?<![\w.]){re.escape(cell.strip())}(?!\w|\.\d)"
                found = re.compile(pattern).search(line, at) if cell.strip() else None
                if cell.strip() and found is None:
                    raise ValueError(f"row {k}: cell {cell!r} is not in its line {line!r} (in order)")
                at = found.end() if found else at

    def __repr__(self) -> str:
        return "".join(
            part if part.endswith("\n") else part + "\n" for part in (self.title, self.text, self.note) if part
        )

    def _repr_pretty_(self, printer, cycle) -> None:
        """IPython's text form: exactly :meth:`__repr__`, its final newline kept (IPython's default
        formatter strips it, which would join the table to a line printed after it)."""
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        numeric = [all(_NUMERIC.match(str(row[k]).strip()) for row in self.rows) for k in range(len(self.header))]

        def cells(tag, values):
            opened = [f'<{tag} class="num">' if num else f"<{tag}>" for num in numeric]
            return "".join(f"{o}{html.escape(str(v).strip())}</{tag}>" for o, v in zip(opened, values))

        head = f"<thead><tr>{cells('th', self.header)}</tr></thead>"
        body = "".join(f"<tr>{cells('td', row)}</tr>" for row in self.rows)
        parts = [f'<p class="results-table-title">{html.escape(self.title.strip())}</p>'] if self.title else []
        parts.append(f'<table class="results-table">{head}<tbody>{body}</tbody></table>')
        if self.note:
            parts.append(f'<p class="results-table-note">{html.escape(self.note.strip())}</p>')
        return "<div>" + "".join(parts) + "</div>"
