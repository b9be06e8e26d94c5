#!/usr/bin/env python3
"""Writes the macro suite's tables between marker comments (perf/macro/run.sh --record).

    record.py RESULTS.md results.md README.md readme-table.md

In each file, what lies between <!-- macro-table:begin --> and <!-- macro-table:end --> is
replaced; everything else is left as it is. RESULTS.md gets a new section at its end when
the markers are missing; README.md is only changed where the markers already are.
"""
import os
import sys

BEGIN, END = "<!-- macro-table:begin -->", "<!-- macro-table:end -->"


def replace(path: str, fragment: str, section: str | None) -> bool:
    text = open(path).read() if os.path.exists(path) else ""
    block = f"{BEGIN}\n{fragment.strip()}\n{END}"
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    elif section is not None:
        text = text.rstrip("\n") + f"\n\n{section}\n\n{block}\n"
    else:
        return False
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return True


def main() -> int:
    results, results_md, readme, readme_md = sys.argv[1:5]
    replace(results, open(results_md).read(),
            "## HTTP macro suite: dusty-hello, nginx, h2o and the ceiling (issue 6)\n\n"
            "Produced by `perf/macro/run.sh` (see perf/README.md).")
    if not replace(readme, open(readme_md).read(), None):
        print(f"{readme}: no {BEGIN} / {END} markers, left as it is", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
