"""Clinical-note extraction: per-field precision / recall of the product against a keyword baseline.

Annotated set: tests/fixtures/notes (42 synthetic notes written for this project, annotated by hand; no patient
data). The extraction rules were written while looking at notes 01-30 (development split); notes 31-42 were not
looked at while writing them (held-out split). Both splits are printed, plus all 42 notes.

    python benchmarks/eval_notes.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender.notes.evaluate import (  # noqa: E402
    keyword_baseline,
    load_annotated_notes,
    product_items,
    score_fields,
)
from recommender.notes.extract import FIELDS  # noqa: E402


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", default=str(ROOT / "tests" / "fixtures" / "notes"))
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    notes = load_annotated_notes(args.notes)
    splits = {"development (01-30)": [n for n in notes if int(n[0].split("_")[1]) <= 30],
              "held-out (31-42)": [n for n in notes if int(n[0].split("_")[1]) > 30], "all": notes}
    product_items(notes[0][1])  # build the pipeline once before timing
    out: dict = {}
    for split, subset in splits.items():
        t0 = time.perf_counter()
        prod, dropped = score_fields(subset, product_items)
        t_prod = time.perf_counter() - t0
        t0 = time.perf_counter()
        base, _ = score_fields(subset, keyword_baseline)
        t_base = time.perf_counter() - t0
        print(f"\n{split}: {len(subset)} notes ({dropped} annotated items outside the drug/regimen vocabulary "
              f"left out of both); product {t_prod / len(subset) * 1000:.0f} ms/note, keyword "
              f"{t_base / len(subset) * 1000:.1f} ms/note")
        print(f"{'field':<16} {'n':>4} | {'product P':>9} {'R':>5} | {'keyword P':>9} {'R':>5}")
        rows = {}
        for f in FIELDS + ("micro",):
            if f == "micro":
                p = type(prod[FIELDS[0]])("micro", *(sum(getattr(s, k) for s in prod.values()) for k in ("tp", "fp", "fn")))
                b = type(base[FIELDS[0]])("micro", *(sum(getattr(s, k) for s in base.values()) for k in ("tp", "fp", "fn")))
            else:
                p, b = prod[f], base[f]
            n = p.tp + p.fn
            print(f"{f:<16} {n:>4} | {_fmt(p.precision):>9} {_fmt(p.recall):>5} | {_fmt(b.precision):>9} "
                  f"{_fmt(b.recall):>5}")
            rows[f] = {"n": n, "product": [p.precision, p.recall], "keyword": [b.precision, b.recall]}
        out[split] = rows
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
