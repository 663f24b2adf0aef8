"""App latency in a real browser: "Load demo patient" clicked -> Compare options fully drawn; prints a table.

Usage::

    python benchmarks/bench_app.py [--repeats 3] [--quick] [--json OUT.json]

Each repeat starts a fresh ``streamlit run app/server.py`` process (what ``recommender app`` starts) over a fresh
SQLite database and drives it with a headless system Chromium (Playwright; Debian ``chromium``, or ``$RECOMMENDER_CHROMIUM``):

- cold = the first session of the fresh server: the click imports the scoring stack, loads the model bundle
  and the knowledge tables, scores the demo patient, then the Compare page is opened and drawn;
- warm = a new browser context (a new Streamlit session, new browser cache) on the same server: the
  process-wide caches (``st.cache_resource``) are hot.

The time runs from the click on "Load demo patient" until the Compare page's script run is over and its
summary card, options table (canvas) and per-option details are on screen (``load`` = until the Patient page
shows the result, ``compare`` = the navigation and drawing of the Compare page). Sign-in is not timed.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app import _browser_support as browser  # noqa: E402


def _measure(b, url: str, username: str, password: str) -> tuple[float, float]:
    """``(load s, compare s)`` of one session: click -> Patient result, then navigation -> Compare drawn."""
    page = browser.new_page(b)
    try:
        browser.sign_in(page, url, username, password)
        t0 = time.perf_counter()
        browser.load_demo_patient(page)
        t1 = time.perf_counter()
        browser.open_page(page, "Compare options")
        browser.wait_compare_rendered(page)
        t2 = time.perf_counter()
    finally:
        page.context.close()
    return t1 - t0, t2 - t1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="fresh server processes (default 3)")
    ap.add_argument("--quick", action="store_true", help="one repeat")
    ap.add_argument("--json", metavar="OUT", help="also write the measurements as JSON to OUT")
    args = ap.parse_args()
    repeats = 1 if args.quick else max(1, args.repeats)
    problem = browser.browser_problem()
    if problem:
        print(f"bench_app: cannot run: {problem}", file=sys.stderr)
        return 1

    from recommender.store import create_user, open_database

    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_app.") as tmp, browser.chromium() as b:
        version = b.version
        for i in range(repeats):
            folder = Path(tmp) / f"run{i}"
            folder.mkdir()
            db_url = f"sqlite:///{folder / 'app.db'}"
            engine = open_database(db_url)
            _, password = create_user(engine, "dr.bench", "physician")
            engine.dispose()
            t = time.perf_counter()
            server = browser.start_app(db_url, folder / "streamlit.log")
            start = time.perf_counter() - t
            try:
                cold = _measure(b, server.url, "dr.bench", password)
                warm = _measure(b, server.url, "dr.bench", password)
            finally:
                server.stop()
            runs.append({"server_start_s": start, "cold_load_s": cold[0], "cold_compare_s": cold[1],
                         "cold_s": sum(cold), "warm_load_s": warm[0], "warm_compare_s": warm[1],
                         "warm_s": sum(warm)})

    print(f"app: demo patient 'Load' click -> Compare options drawn; {repeats} fresh server(s), "
          f"{os.cpu_count()} CPU(s), Chromium {version}")
    head = (f"{'run':<8}{'server start s':>15}{'cold s':>9}{'(load+compare)':>17}{'warm s':>9}"
            f"{'(load+compare)':>17}{'cold/warm':>11}")
    print(head)
    for i, r in enumerate(runs, 1):
        print(f"{i:<8}{r['server_start_s']:>15.2f}{r['cold_s']:>9.2f}"
              f"{r['cold_load_s']:>9.2f}+{r['cold_compare_s']:<7.2f}{r['warm_s']:>9.2f}"
              f"{r['warm_load_s']:>9.2f}+{r['warm_compare_s']:<7.2f}{r['cold_s'] / r['warm_s']:>11.1f}")
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"{'median':<8}{med['server_start_s']:>15.2f}{med['cold_s']:>9.2f}"
          f"{med['cold_load_s']:>9.2f}+{med['cold_compare_s']:<7.2f}{med['warm_s']:>9.2f}"
          f"{med['warm_load_s']:>9.2f}+{med['warm_compare_s']:<7.2f}{med['cold_s'] / med['warm_s']:>11.1f}")
    if args.json:
        out = {"benchmark": "app_demo_load_to_compare", "repeats": repeats, "runs": runs, "median": med,
               "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "chromium": version}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"JSON written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
