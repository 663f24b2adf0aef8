"""Run many ``recommender`` CLI invocations in one interpreter, each in a forked child (issue 16 suite).

``python tests/genomics/_cli_batch.py CASES.json`` reads ``[{"id", "cwd", "argv"}, ...]`` and prints one
JSON object ``{id: {"rc", "signal", "stdout", "stderr", "timeout"}}``. Imports are paid once; every case
still gets its own process (a crash, an ``exit()`` from C or a hang stays inside that case).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time


def _run(case: dict, timeout: float) -> dict:
    from recommender.cli import main

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 99
            try:
                os.chdir(case["cwd"])
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = os.fdopen(1, "w", closefd=False)
                sys.stderr = os.fdopen(2, "w", closefd=False)
                code = main(case["argv"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException:  # noqa: BLE001 - an escaped exception is a finding: show it
                import traceback

                traceback.print_exc()
                code = 98
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                except Exception:  # noqa: BLE001, S110
                    pass
            os._exit(int(code))
        started = time.monotonic()
        deadline = started + timeout
        timed_out = False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        out.seek(0)
        err.seek(0)
        return {
            "rc": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timeout": timed_out,
            "seconds": round(time.monotonic() - started, 3),
            "stdout": out.read().decode("utf-8", "replace")[-4000:],
            "stderr": err.read().decode("utf-8", "replace")[-4000:],
        }


def main(path: str) -> None:
    import warnings

    warnings.simplefilter("ignore")
    import genomics.pgx  # noqa: F401 - warm the imports and caches the cases share
    import genomics.vcf  # noqa: F401
    import recommender.cli  # noqa: F401

    for module in ("recommender.commands.qc", "recommender.commands.pgx", "recommender.commands.score",
                   "recommender.commands.biomarkers", "recommender.commands.kb", "recommender.inputs"):
        try:
            __import__(module)
        except Exception:  # noqa: BLE001, S110 - a command being rewritten elsewhere: its case will say so
            pass
    try:
        genomics.pgx.compiled_gene("CYP2C19")
    except Exception:  # noqa: BLE001, S110
        pass

    with open(path, encoding="utf-8") as fh:
        cases = json.load(fh)
    results = {c["id"]: _run(c, float(c.get("timeout", 30))) for c in cases}
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1])
