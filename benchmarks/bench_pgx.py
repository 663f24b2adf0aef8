"""Benchmark: star-allele calling of every gene on the 1000 Genomes panel vs a bare cyvcf2 read.

Usage::

    python benchmarks/bench_pgx.py [--data DIR] [--quick] [--repeat N]

``DIR`` holds the per-gene 1000 Genomes VCFs (default ``../shared/data/population/1kgp_GRCh38``).
In the same run it times

1. ``bare cyvcf2``: open each file, query the span of the gene's defining positions and decode the
   genotype array of every record at a defining position (what any caller must at least do);
2. ``call_pgx_cohort``: the product's bulk path (read each gene once for all samples, match, look up
   phenotypes, build one JSON-ready profile per sample), with ``fill_missing_with_reference=True``;

and prints a table with samples/s and the ratio. ``--quick`` uses the first 300 samples.

It also times the start-up of ``recommender pgx`` on a tiny single-sample VCF (one gene, generated from
the bundled CYP2C19 definition) against a bare ``python -c 'import cyvcf2; read the file'`` in the same
run (``--startup-runs N`` fresh processes each, interleaved): best and median wall time and the CPU time
of the child (user + system, which the load of a shared machine distorts less). Byte code is cached
outside the tree (``PYTHONPYCACHEPREFIX`` in a temporary folder, one warm-up run) as an installed package
has it; ``--cold`` keeps the environment as it is (with ``PYTHONDONTWRITEBYTECODE=1`` every run then
compiles the project's modules).

PyPGx is not compared: its VCF pipeline needs the ``pypgx-bundle`` reference panels and Java/Beagle,
which cannot be obtained offline here (see ``docs/concepts/pharmacogenomics.md``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import cyvcf2

from genomics.errors import DegradedResultWarning
from genomics.pgx import call_pgx_cohort
from genomics.pgx.caller import compiled_gene
from genomics.pgx.definitions import CALLABLE_GENES

REPO = Path(__file__).resolve().parents[1]


def bare_read(files: dict[str, Path], samples: list[str] | None) -> tuple[float, int, float]:
    """``(wall seconds, records decoded, CPU seconds)``."""
    c0, t0 = time.process_time(), time.perf_counter()
    n = 0
    for gene, path in files.items():
        cg = compiled_gene(gene)
        wanted = set(cg.position_index)
        vcf = cyvcf2.VCF(str(path), samples=samples, lazy=True)
        for v in vcf(f"{cg.definition.chrom}:{min(wanted)}-{max(wanted)}"):
            if v.POS in wanted:
                v.genotype.array()
                n += 1
        vcf.close()
    return time.perf_counter() - t0, n, time.process_time() - c0


def run_caller(files: dict[str, Path], samples: list[str] | None) -> tuple[float, float, int, float, float]:
    """``(wall total, wall read, profiles, CPU total, CPU read)``."""
    marks: dict[str, float] = {}
    c0, t0 = time.process_time(), time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "read" and done == total:
            marks["read"] = time.perf_counter()
            marks["read_cpu"] = time.process_time()

    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        for profile in call_pgx_cohort(list(files.values()), samples=samples, genes=list(files),
                                       fill_missing_with_reference=True, progress=progress):
            profile.to_dict()  # JSON-ready output is part of the job
            n += 1
    total = time.perf_counter() - t0
    return total, marks.get("read", t0) - t0, n, time.process_time() - c0, marks.get("read_cpu", c0) - c0


def _tiny_vcf(folder: Path) -> Path:
    """A one-sample CYP2C19 *2/*17 VCF built from the bundled definition."""
    from genomics.pgx.caller import compiled_gene as cg_for

    cg = cg_for("CYP2C19")
    ref = {a.name: a for a in cg.allele_defs}
    lines = ["##fileformat=VCFv4.2\n", "##contig=<ID=chr10,length=133797422>\n",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"]
    for lo in cg.loci:
        a2 = ref["*2"].alleles[lo.index]
        a17 = ref["*17"].alleles[lo.index]
        alts = [a for a in (a2, a17) if a and a != lo.ref and len(a) == len(lo.ref) and a.isalpha()]
        alts = list(dict.fromkeys(alts))
        g = [str(alts.index(a) + 1) if a in alts else "0" for a in (a2, a17)]
        lines.append(f"{lo.chrom}\t{lo.position}\t.\t{lo.ref}\t{','.join(alts) or '.'}\t.\tPASS\t.\tGT\t{'/'.join(g)}\n")
    path = folder / "tiny.vcf"
    path.write_text("".join(lines))
    return path


_CPU_STAGES = """
import time, warnings
c = time.process_time
t = [c()]
import numpy
t.append(c())
import pydantic
t.append(c())
import genomics.pgx.profile
t.append(c())
from genomics.pgx.caller import call_pgx
t.append(c())
import genomics.vcf
t.append(c())
from genomics.pgx import phenotypes
t.append(c())
warnings.simplefilter("ignore")
call_pgx({vcf!r}, genes=["CYP2C19"])
t.append(c())
names = ["numpy", "pydantic", "profile models", "caller", "VCF reader", "phenotypes", "call"]
print(", ".join(f"{{n}} {{b - a:.3f}}" for n, a, b in zip(names, t, t[1:])) + f"; total {{t[-1] - t[0]:.3f}}")
"""


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def startup(runs: int, cold: bool = False) -> list[tuple[str, float, float, float]]:
    """``(name, best wall, median wall, median CPU)`` of fresh processes: the CLI on a tiny one-gene VCF
    and a bare cyvcf2 read of the same file, ``runs`` of each, interleaved (so load changes hit both)."""
    with tempfile.TemporaryDirectory() as tmp:
        vcf = _tiny_vcf(Path(tmp))
        env = dict(os.environ)
        if not cold:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        cmds = {
            "python -c 'import cyvcf2; read tiny VCF'": [
                sys.executable, "-c", f"import cyvcf2\nfor v in cyvcf2.VCF({str(vcf)!r}): v.genotype"],
            "recommender pgx tiny.vcf --genes CYP2C19": [
                sys.executable, "-m", "recommender.cli", "pgx", str(vcf), "--genes", "CYP2C19"],
        }
        for cmd in cmds.values():  # warm-up: byte code cache, OS file cache
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=env)
        stages = subprocess.run([sys.executable, "-c", _CPU_STAGES.format(vcf=str(vcf))], check=True, cwd=REPO,
                                capture_output=True, text=True, env=env).stdout.strip()
        print(f"start-up CPU seconds by stage (one process): {stages}")
        wall: dict[str, list[float]] = {name: [] for name in cmds}
        cpu: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(runs):
            for name, cmd in cmds.items():
                c0, t0 = _child_cpu(), time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=REPO, env=env)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(_child_cpu() - c0)
    return [(name, min(wall[name]), statistics.median(wall[name]), statistics.median(cpu[name])) for name in cmds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="star-allele calling speed vs a bare cyvcf2 read")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "population" / "1kgp_GRCh38")
    parser.add_argument("--quick", action="store_true", help="first 300 samples only")
    parser.add_argument("--repeat", type=int, default=1, help="repeat each measurement, keep the fastest")
    parser.add_argument("--startup-runs", type=int, default=10,
                        help="fresh processes per start-up command (default 10; 0: skip)")
    parser.add_argument("--startup-only", action="store_true", help="measure the start-up only")
    parser.add_argument("--cold", action="store_true",
                        help="start-up without a byte-code cache (as the environment is)")
    args = parser.parse_args(argv)
    if args.startup_runs:
        rows = startup(args.startup_runs, cold=args.cold)
        print(f"start-up: {args.startup_runs} fresh processes each, interleaved "
              f"({'no byte-code cache' if args.cold else 'byte code cached'}); load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"  {'command':<44} {'best wall':>10} {'median wall':>12} {'median CPU':>11}")
        for name, best, med, cpu_s in rows:
            print(f"  {name:<44} {best:>9.3f}s {med:>11.3f}s {cpu_s:>10.3f}s")
        (_, b_best, b_med, b_cpu), (_, c_best, c_med, c_cpu) = rows
        print(f"  ratio CLI / bare read: best wall {c_best / b_best:.2f}x, median CPU {c_cpu / b_cpu:.2f}x; "
              f"CLI overhead over the bare read: {c_cpu - b_cpu:.3f} s CPU")
        if args.startup_only:
            return 0
    files = {g: args.data / f"{g}.vcf.gz" for g in CALLABLE_GENES if (args.data / f"{g}.vcf.gz").exists()}
    if not files:
        print(f"no per-gene VCFs found in {args.data}", file=sys.stderr)
        return 1
    all_samples = list(cyvcf2.VCF(str(next(iter(files.values())))).samples)
    samples = all_samples[:300] if args.quick else None
    n_samples = len(samples or all_samples)

    bare = min((bare_read(files, samples) for _ in range(args.repeat)), key=lambda r: r[0])
    best = min((run_caller(files, samples) for _ in range(args.repeat)), key=lambda r: r[0])
    caller_s, read_s, n_profiles, caller_cpu, read_cpu = best
    assert n_profiles == n_samples
    rows = [
        ("bare cyvcf2 read (gene spans)", bare[0], bare[2],
         f"GT of {bare[1]} defining-position records x {n_samples} samples"),
        ("call_pgx_cohort: read + encode", read_s, read_cpu, "product VCF reader (with its text pre-check), "
                                                               "numpy allele codes"),
        ("call_pgx_cohort: total", caller_s, caller_cpu, f"{len(files)} genes, phenotypes, {n_profiles} profiles"),
    ]
    print(f"pgx benchmark: {n_samples} samples, {len(files)} genes ({', '.join(files)}); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'step':<36} {'wall s':>8} {'CPU s':>8} {'samples/s (wall)':>17}  note")
    for name, sec, cpu_s, note in rows:
        print(f"{name:<36} {sec:>8.2f} {cpu_s:>8.2f} {n_samples / sec:>17.0f}  {note}")
    print(f"ratio caller / bare read: wall {caller_s / bare[0]:.2f}x, CPU {caller_cpu / bare[2]:.2f}x (goal <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
