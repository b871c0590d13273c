"""The package's command line: ``python -m companion diagnose MODEL --data ...`` (every paper's
diagnostic and the masking check on a model of one's own; see
:mod:`companion.papers.synthesis.diagnose`). The one module of the shared level that may reach
into a paper's folder: it only dispatches."""

import sys

COMMANDS = ("diagnose",)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print(f"usage: python -m companion {{{','.join(COMMANDS)}}} ...  (e.g. python -m companion diagnose "
              "model.keras --data mnist)", file=sys.stderr)  # fmt: skip
        return 2
    from companion.papers.synthesis import diagnose

    return diagnose.main(args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
