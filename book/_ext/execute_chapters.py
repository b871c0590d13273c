"""`jupyter-book build book/` does the whole job: before Sphinx reads the sources, every chapter
whose executed notebook is missing or stale is run (companion.book.build), then the scorecard
page is gathered from the executed chapters. The profile comes from $COMPANION_PROFILE (default
quick), the variable `make book PROFILE=...` sets. A chapter that cannot run stops the build with
one line on stderr (what went wrong, and the command that mends it) and exit status 2, never an
empty book. A changed stylesheet in book/_static/ is copied into the built book."""

import sys
from pathlib import Path


def _run_stale_chapters(app, config):
    from companion.book import build

    try:
        build.bring_up_to_date(Path(app.srcdir).parent, log=lambda line: print(line, file=sys.stderr, flush=True))
    except build.BuildError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _static_changed(app, env, added, changed, removed):
    """A changed stylesheet of book/_static/ rebuilds one page, so that Sphinx, which copies the
    static files only when some page is written, copies it: a CSS change reaches the book."""
    source, built = Path(app.srcdir) / "_static", Path(app.outdir) / "_static"
    for path in source.glob("*") if source.is_dir() else []:
        copy = built / path.name
        if path.is_file() and (not copy.is_file() or copy.read_bytes() != path.read_bytes()):
            return [app.config.root_doc]
    return []


def setup(app):
    app.connect("config-inited", _run_stale_chapters)
    app.connect("env-get-outdated", _static_changed)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
