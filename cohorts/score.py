"""Score a whole cohort: chunked, resumable, parallel (local processes or a Dask cluster) -> Parquet.

``score_cohort(COHORT, OUT.parquet)`` splits the cohort's patients (table order) into chunks of
``chunk_size``. For each chunk:

1. the chunk's rows are read from the cohort tables with a Parquet filter (no whole-cohort table in memory),
2. pharmacogenomics is called once for the chunk's samples over the cohort VCF
   (:func:`genomics.pgx.call_pgx_cohort`, missing defining positions read as reference),
3. when the model bundle has DNA LM genes, each patient gets the DNA LM gene features
   :func:`recommender.scoring.score_patient` computes for it alone from its VCF. They are computed once per run,
   before the chunks, in the calling process (:func:`recommender.dnalm_features.dnalm_features_for_samples` over
   all samples: each gene region read once, each distinct variant scored once through the SQLite DNA LM cache,
   the DNA LM loaded once) and written to ``OUT.parts/dnalm-features.json``; workers only read that file, so
   they never load the DNA LM (a direct :func:`score_chunk` call without the file computes its chunk's features
   itself, through the same cache),
4. every patient is scored through the recommender's batch API (:func:`recommender.scoring.score_patients`
   with the whole chunk as one model batch: one feature frame, one pass of every model; bad records are
   skipped with their reason, never fatal),
5. each (patient x option) becomes one row, written to ``OUT.parts/chunk-NNNNN.parquet`` through a temporary
   name and :func:`os.replace` -- a file with the final name is always complete.

A re-run (after a crash, ``kill`` or Ctrl-C) keeps every finished chunk file whose plan matches (same cohort,
chunk size, bundle, candidates, package version) and computes only the others. The final ``OUT.parquet`` is
the chunks concatenated in chunk order by a streaming :class:`pyarrow.parquet.ParquetWriter` (one chunk in
memory at a time) and renamed into place; it holds no time stamps, so it is byte-for-byte the same table as an
uninterrupted run's.

Each chunk's stats (in its file's metadata, summed into :class:`ScoreSummary`) hold the seconds per stage
(``vcf``: chunk tables and records read, DNA LM gene regions read; ``pgx``; ``biomarkers``; ``dnalm``;
``features``; ``models``; ``overlay``: guidance overlay, ranking and result objects; ``output``: rows and the
Parquet write; ``wait``: a worker idle until the run's DNA LM features file exists, first chunks only) and the
worker's pid and peak resident memory (``VmHWM`` on Linux, else ``ru_maxrss``). The run's DNA LM prepass (in the
calling process) adds its ``vcf`` and ``dnalm`` seconds to the summary.

Candidate options per patient: ``treatments`` when given, else the simulator's candidate list for the
patient's cancer type (:data:`cohorts.simulate_model.CANDIDATES`); a patient without candidates is skipped
with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from genomics.errors import DegradedResultWarning, RecommenderError, UsageError
from recommender.library_warnings import ignore_library_noise, install_library_noise_filters

__all__ = ["ROW_SCHEMA", "ScoreSummary", "plan_chunks", "score_chunk", "score_cohort"]

PLAN_KEY = b"recommender.cohort_score.plan"
STATS_KEY = b"recommender.cohort_score.stats"
#: Bumped when the rows a chunk gets change for the same inputs (old chunk files are then not reused).
SCORING_VERSION = "cohort-score/4 (covariates from the patients table, risk columns, germline BRCA1/2 from the cohort VCF)"
#: Stages timed per chunk, in pipeline order.
STAGES = ("vcf", "pgx", "biomarkers", "dnalm", "germline_genes", "features", "models", "overlay", "output", "wait")
#: File name of the default DNA LM score cache inside ``OUT.parquet.parts/``.
DNALM_CACHE_NAME = "dnalm-cache.sqlite"
#: File name of the run's per-sample DNA LM features inside ``OUT.parquet.parts/``.
DNALM_FEATURES_NAME = "dnalm-features.json"
#: Batches of the DNA LM pre-pass (progress is reported after each).
DNALM_PROGRESS_STEPS = 20
#: Stages reported to ``score_cohort(on_stage=...)``, in order.
PROGRESS_STAGES = ("pgx_shards", "dnalm", "scoring", "writing")
#: How long to wait for a Dask scheduler before giving up.
SCHEDULER_TIMEOUT = "20s"
_TOX = pa.struct([("term", pa.string()), ("probability", pa.float64()), ("low", pa.float64()),
                  ("high", pa.float64())])
_PGX = pa.struct([("drug", pa.string()), ("action", pa.string())])
_PHENO = pa.struct([("gene", pa.string()), ("status", pa.string()), ("diplotype", pa.string()),
                    ("phenotype", pa.string()), ("activity_score", pa.string())])

#: One row per patient x candidate option (fixed, so every chunk file has the same columns).
ROW_SCHEMA = pa.schema([
    ("patient_id", pa.string()),
    ("chunk", pa.int32()),
    ("regimen", pa.string()),
    ("drugs", pa.list_(pa.string())),
    ("rank", pa.int32()),
    ("model_rank", pa.int32()),
    ("model_available", pa.bool_()),
    ("p_response", pa.float64()),
    ("p_response_low", pa.float64()),
    ("p_response_high", pa.float64()),
    ("pfs_median_days", pa.float64()),
    ("pfs_median_low", pa.float64()),
    ("pfs_median_high", pa.float64()),
    ("os_median_days", pa.float64()),
    ("os_median_low", pa.float64()),
    ("os_median_high", pa.float64()),
    ("utility", pa.float64()),
    ("toxicity", pa.list_(_TOX)),
    ("max_toxicity_probability", pa.float64()),
    ("guidance_action", pa.string()),
    ("pgx_actions", pa.list_(_PGX)),
    ("out_of_distribution", pa.bool_()),
    ("n_disagreements", pa.int32()),
    ("warnings", pa.list_(pa.string())),
    ("pgx_sample", pa.string()),
    ("pgx_phenotypes", pa.list_(_PHENO)),
    ("model_bundle_id", pa.string()),
    ("model_bundle_sha256", pa.string()),
    ("dnalm_model", pa.string()),  # DNA LM that scored the patient's variants in the bundle's DNA LM genes, or null
    ("pfs_risk", pa.float64()),  # risk score of the bundle's PFS model for this option (higher = worse): its log
    # relative hazard, or minus the RMST in days of its curves for a curve mixture ranking by its curves
    ("os_risk", pa.float64()),
])


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class ScoreSummary:
    """What a cohort scoring run did (JSON-ready via :meth:`to_dict`)."""

    output: str
    n_patients: int
    n_scored: int
    n_skipped: int
    n_rows: int
    n_chunks: int
    chunks_reused: int
    chunks_computed: int
    workers: int
    scheduler: str | None
    seconds: float
    patients_per_second: float | None
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    #: Seconds per stage (:data:`STAGES`) summed over the chunks computed in this run (all workers).
    stage_seconds: dict[str, float] = field(default_factory=dict)
    #: Peak resident memory (MB) of each process that computed chunks in this run, by pid (``host:pid`` when
    #: the worker ran on another machine).
    peak_rss_mb_per_worker: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to score one chunk (small and picklable)."""

    cohort_dir: str
    index: int
    patient_ids: tuple[str, ...]
    part_path: str
    bundle: str | bool | None
    treatments: tuple[str, ...] | None
    plan: str
    dnalm_cache: str | None = None
    dnalm_features: str | None = None  # the run's DNA LM features file (see _dnalm_prepass)
    pgx_vcf: str | None = None  # this chunk's slice of the VCF at the PGx positions (cohorts.pgx_shards)
    cyp2d6_without_copy_number: bool = False  # use the SNV/indel-only CYP2D6 call (opt-in, as `score`)


# ------------------------------------------------------------------------------------------------ helpers
def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genomics-treatment-recommender")
    except PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "0+unknown"


def warning_kind(text: str) -> str:
    """A short, identifier-free label for counting warnings (the text before the first ':' or '(')."""
    head = text.split(":", 1)[0].split("(", 1)[0].strip()
    words = head.split()
    return " ".join(words[:8]) if words else "warning"


def _part_name(index: int) -> str:
    return f"chunk-{index:05d}.parquet"


def parts_dir(out_path: str | os.PathLike[str]) -> Path:
    """``OUT.parquet`` -> ``OUT.parquet.parts`` (chunk files of a run)."""
    out = Path(out_path)
    return out.with_name(out.name + ".parts")


def is_score_output(path: str | os.PathLike[str]) -> bool:
    """``True`` when ``path`` is a Parquet file written by :func:`score_cohort` (its metadata key)."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError, pa.ArrowException):
        return False
    return b"recommender.cohort_score" in meta


def check_output_path(out_path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The resolved output path, refused (``UsageError``) when writing it could destroy something else.

    Refused: a symbolic link (its target would be replaced), a directory, and an existing file that is not a
    ``cohort score`` output unless ``overwrite``.
    """
    given = Path(out_path)
    if given.is_symlink():
        raise UsageError("the output path is a symbolic link; its target would be replaced", file=str(given),
                         field="--output", fix="give the real path of a new file")
    out = given.resolve()
    if out.is_dir():
        raise UsageError("the output path is a directory", file=str(out), field="--output",
                         fix="give a file name, e.g. DIR/scores.parquet")
    if out.exists() and not overwrite and not is_score_output(out):
        raise UsageError("the output file exists and is not a 'cohort score' output", file=str(out),
                         field="--output", fix="choose a new file name, or pass --overwrite to replace it")
    return out


def plan_chunks(patient_ids: Sequence[str], chunk_size: int) -> list[tuple[str, ...]]:
    """Split ``patient_ids`` (in order) into chunks of at most ``chunk_size``."""
    if chunk_size < 1:
        raise UsageError(f"chunk size must be >= 1, not {chunk_size}", field="chunk_size", fix="use --chunk-size 200")
    ids = list(patient_ids)
    return [tuple(ids[i:i + chunk_size]) for i in range(0, len(ids), chunk_size)]


def _bundle_spec(bundle: Any) -> str | bool | None:
    if bundle is None or bundle is False:
        return bundle
    if isinstance(bundle, (str, os.PathLike)):
        return str(Path(bundle).resolve())
    raise UsageError("score_cohort takes a bundle directory, None (the default bundle) or False (no model)",
                     field="bundle", fix="pass the bundle's directory (--bundle DIR)")


def _bundle_fingerprint(spec: str | bool | None) -> str:
    if isinstance(spec, str):
        man = Path(spec) / "manifest.json"
        if man.exists():
            return hashlib.sha256(man.read_bytes()).hexdigest()
    return repr(spec)


def _plan_hash(cohort_dir: Path, chunk_size: int, spec: str | bool | None, treatments: tuple[str, ...] | None,
               cyp2d6_without_copy_number: bool = False) -> str:
    from cohorts.manifest import MANIFEST_NAME

    payload = {
        "cohort_manifest": hashlib.sha256((cohort_dir / MANIFEST_NAME).read_bytes()).hexdigest(),
        "chunk_size": chunk_size, "bundle": _bundle_fingerprint(spec), "treatments": treatments,
        "package_version": _package_version(), "schema": ROW_SCHEMA.to_string(), "scoring": SCORING_VERSION,
    }
    if cyp2d6_without_copy_number:  # only when set: plans of runs without the option keep their hash
        payload["cyp2d6_without_copy_number"] = True
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _finished(path: Path, plan: str) -> dict[str, Any] | None:
    """Stats of a complete chunk file of this plan, or None (missing, unreadable, other plan)."""
    if not path.exists():
        return None
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    if meta.get(PLAN_KEY, b"").decode() != plan or STATS_KEY not in meta:
        return None
    return json.loads(meta[STATS_KEY])


# ------------------------------------------------------------------------------------------------ worker side
_BUNDLES: dict[Any, Any] = {}


def _context(spec: str | bool | None) -> Any:
    """A :class:`~recommender.scoring.ScoringContext`, loaded once per process and bundle."""
    key = repr(spec)
    if key not in _BUNDLES:
        from recommender.scoring import ScoringContext

        _BUNDLES[key] = ScoringContext(spec)
    return _BUNDLES[key]


def init_worker(spec: str | bool | None) -> None:
    """Process-pool initializer: load the bundle once per worker (numeric libraries' noise filtered by category)."""
    install_library_noise_filters()
    _context(spec)


def _chunk_cohort(cohort_dir: Path, ids: Sequence[str]) -> Any:
    """A :class:`~cohorts.storage.Cohort` whose tables hold only the chunk's patients (Parquet filter)."""
    from cohorts.manifest import read_manifest
    from cohorts.storage import Cohort
    from cohorts.tables import TABLES, conform

    manifest = read_manifest(cohort_dir)
    cohort = Cohort(cohort_dir, manifest)
    id_list = list(ids)
    for name, entry in manifest.tables.items():
        df = pq.read_table(cohort_dir / entry.path, filters=[("patient_id", "in", id_list)]).to_pandas()
        cohort._cache[name] = conform(name, df) if name in TABLES else df
    return cohort


def _phenotypes(profile: Any) -> list[dict[str, Any]]:
    """Per gene: call status, diplotype, phenotype and activity score of a PGx profile (empty without one)."""
    if profile is None:
        return []
    return [{"gene": g, "status": str(c.status), "diplotype": c.diplotype, "phenotype": c.phenotype,
             "activity_score": c.activity_score} for g, c in sorted(profile.genes.items())]


def _rows(rec: Any, chunk: int, profile: Any = None) -> list[dict[str, Any]]:
    prov = rec.provenance
    phenos = _phenotypes(profile)
    rows = []
    for o in rec.options:
        m = o.model
        surv = {s.endpoint: s for s in m.survival}
        pfs, os_ = surv.get("pfs"), surv.get("os")
        tox = [{"term": t.term, "probability": t.probability, "low": t.low, "high": t.high} for t in m.toxicity]
        rows.append({
            "patient_id": rec.patient_id, "chunk": chunk, "regimen": o.regimen, "drugs": list(o.drugs),
            "rank": o.rank, "model_rank": o.model_rank, "model_available": m.available,
            "p_response": None if m.response is None else m.response.probability,
            "p_response_low": None if m.response is None else m.response.low,
            "p_response_high": None if m.response is None else m.response.high,
            "pfs_median_days": None if pfs is None else pfs.median_days,
            "pfs_median_low": None if pfs is None else pfs.low,
            "pfs_median_high": None if pfs is None else pfs.high,
            "os_median_days": None if os_ is None else os_.median_days,
            "os_median_low": None if os_ is None else os_.low,
            "os_median_high": None if os_ is None else os_.high,
            "utility": m.utility, "toxicity": tox,
            "max_toxicity_probability": max((t["probability"] for t in tox), default=None),
            "guidance_action": o.guidance_action,
            "pgx_actions": [{"drug": f.drug, "action": f.action} for f in o.pgx],
            "out_of_distribution": m.ood.flag, "n_disagreements": len(o.disagreements),
            "warnings": list(o.warnings), "pgx_sample": rec.pgx_sample,
            "pgx_phenotypes": phenos, "model_bundle_id": prov.model_bundle_id, "model_bundle_sha256": prov.model_bundle_sha256,
            "dnalm_model": prov.dna_lm,
            "pfs_risk": None if pfs is None else pfs.risk, "os_risk": None if os_ is None else os_.risk,
        })
    return rows


def _ru_maxrss_kib() -> int:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in KiB (it is bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024) if sys.platform == "darwin" else int(peak)


def _peak_rss_kib() -> int:
    """Peak resident set size of this process in KiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process's own memory. ``ru_maxrss``
    is not used there because Linux carries it over from the parent into a process started with fork + exec
    (the "spawn" pool), so a worker would report the parent's size. Elsewhere: ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return _ru_maxrss_kib()


def _dnalm_genes(bundle: Any) -> tuple[str, ...]:
    return tuple(getattr(getattr(bundle, "schema", None), "dnalm_genes", ()) or ())


_LM_TABLES: dict[tuple[str, int, int], dict[str, Any]] = {}
#: Longest a worker waits for the run's DNA LM features file before computing its chunk's features itself
#: (once per process and file: after a time-out it no longer waits).
DNALM_WAIT_SECONDS = 600.0
_LM_WAIT_EXPIRED: set[str] = set()


def _read_dnalm_file(path: str | Path) -> dict[str, Any] | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _dnalm_table(path: str, plan: str, wait: float = 0.0) -> tuple[dict[str, Any] | None, float]:
    """``(the run's DNA LM features file as {genes, default, carriers, missing}, seconds waited for it)``.

    The file is parsed once per process. Waits up to ``wait`` seconds for it (the caller writes it while the
    first chunks start). ``None``: no usable file (another plan, the prepass failed, or still missing): the
    chunk computes its own.
    """
    from recommender.dnalm_features import DnaLmFeatures

    start = time.monotonic()
    deadline = start + (0.0 if str(path) in _LM_WAIT_EXPIRED else wait)
    while True:
        try:
            st = os.stat(path)
            break
        except OSError:
            if time.monotonic() >= deadline:
                if wait:
                    _LM_WAIT_EXPIRED.add(str(path))
                return None, time.monotonic() - start
            time.sleep(0.05)
    waited = time.monotonic() - start
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _LM_TABLES:
        data = _read_dnalm_file(path)
        if data is None or data.get("plan") != plan or "error" in data:
            return None, waited
        _LM_TABLES.clear()
        _LM_TABLES[key] = {
            "genes": tuple(data["genes"]), "default": DnaLmFeatures.from_dict(data["default"]),
            "carriers": {smp: DnaLmFeatures.from_dict(d) for smp, d in data["carriers"].items()},
            "missing": set(data["missing"])}
    return _LM_TABLES[key], waited


def _bundle_dnalm_genes(spec: str | bool | None) -> tuple[str, ...]:
    """The DNA LM genes of a bundle's feature schema, read without loading its models."""
    if spec is False:
        return ()
    if spec is None:
        from recommender.models.defaults import default_bundle_path

        folder = default_bundle_path()
    else:
        folder = Path(str(spec))
    try:
        data = json.loads((folder / "feature_schema.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()  # no bundle (or not readable here): the workers score without model numbers or report it
    return tuple(data.get("dnalm_genes") or ())


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _dnalm_prepass(cohort_dir: Path, vcf: Path, genes: tuple[str, ...], plan: str, path: Path,
                   cache: str, on_samples: Callable[[int, int], None] | None = None,
                   batches: int = DNALM_PROGRESS_STEPS) -> dict[str, float]:
    """Compute every sample's DNA LM features once (this process) into ``path``; returns seconds per stage.

    A complete file of this plan (from an interrupted run) is kept as is. The samples are done in about
    ``batches`` batches (variants shared between batches are read back from the score cache), and
    ``on_samples(done, total)`` is called after each one, so progress moves during this stage too.
    """
    from recommender.scoring import StageTimer

    old = _read_dnalm_file(path) if path.exists() else None
    if old is not None and old.get("plan") == plan and "error" not in old:
        return {}
    from cohorts.manifest import read_manifest
    from genomics.vcf import VcfReader
    from recommender.dnalm_features import dnalm_features_for_samples, no_variant_features

    timer = StageTimer()
    with timer.stage("vcf"):
        manifest = read_manifest(cohort_dir)
        pts = pq.read_table(cohort_dir / manifest.tables["patients"].path, columns=["sample_id"])
        samples = list(dict.fromkeys(s for s in pts.column("sample_id").to_pylist() if isinstance(s, str) and s))
        with VcfReader(vcf) as reader:
            in_vcf = set(reader.samples)
    present = [smp for smp in samples if smp in in_vcf]
    size = max(1, -(-len(present) // max(1, batches)))
    features: dict[str, Any] = {}
    if on_samples is not None:
        on_samples(0, len(present))
    for start in range(0, len(present), size):
        with ignore_library_noise():
            features.update(dnalm_features_for_samples(str(vcf), present[start:start + size], genes, cache=cache,
                                                       timer=timer))
        if on_samples is not None:
            on_samples(min(start + size, len(present)), len(present))
    default = no_variant_features(genes)
    carriers = {smp: f.to_dict() for smp, f in features.items() if f != default}
    _write_json_atomic(path, {"plan": plan, "genes": list(genes), "vcf": vcf.name, "default": default.to_dict(),
                              "carriers": carriers, "missing": sorted(set(samples) - in_vcf)})
    return dict(timer.seconds)


def _knowledge(prov: Any) -> dict[str, Any]:
    """Knowledge-base versions a result was computed with (PGx tables, biomarker tables, DNA LM, feature schema)."""
    return {"pgx_knowledge_base": dict(prov.pgx_knowledge_base), "biomarker_tables": list(prov.biomarker_tables),
            "dna_lm": prov.dna_lm, "feature_schema_hash": prov.feature_schema_hash}


def _pgx_shards(cohort_path: Path, cohort: Any, tasks: list[ChunkTask], parts: Path,
                plan: str) -> tuple[list[ChunkTask], list[Path]]:
    """Write the chunks' PGx slices of the cohort VCF (see :mod:`cohorts.pgx_shards`); tasks point at them.

    A VCF that is not bgzipped and tabix-indexed, or a failure while splitting, leaves the tasks reading
    the full file, as before.
    """
    from cohorts.pgx_shards import shard_name, write_pgx_shards

    table = pq.read_table(cohort_path / cohort.manifest.tables["patients"].path, columns=["patient_id", "sample_id"])
    sample_of = {str(p): s for p, s in zip(table.column("patient_id").to_pylist(),
                                           table.column("sample_id").to_pylist(), strict=True)
                 if isinstance(s, str) and s}
    del table
    paths = [parts / shard_name(plan, t.index) for t in tasks]
    samples = [[sample_of[p] for p in t.patient_ids if p in sample_of] for t in tasks]
    try:
        if not write_pgx_shards(cohort.vcf_path, samples, paths):
            return tasks, []
    except (OSError, ValueError, KeyError):
        return tasks, []
    return [replace(t, pgx_vcf=str(p)) for t, p in zip(tasks, paths, strict=True)], paths


def score_chunk(task: ChunkTask) -> dict[str, Any]:
    """Score one chunk and write its Parquet file atomically; returns the chunk's stats.

    Runs in any process (local pool, Dask worker or the caller's own); loads the bundle (and, when needed,
    the DNA LM) once per process.
    """
    from cohorts.simulate_model import CANDIDATES
    from genomics.pgx import call_pgx_cohort
    from recommender.requests import RankingOptions
    from recommender.schema import TreatmentOption
    from recommender.scoring import ScoringContext, StageTimer, score_patients

    start = time.perf_counter()
    timer = StageTimer()
    cohort_dir = Path(task.cohort_dir)
    ctx = _context(task.bundle)
    skipped: Counter[str] = Counter()
    warn: Counter[str] = Counter()

    # -- the chunk's table rows and records, with their candidate options
    with timer.stage("vcf"):
        cohort = _chunk_cohort(cohort_dir, task.patient_ids)
        patients = []
        for p in _patients_with_errors(cohort, task.patient_ids, skipped):
            names = task.treatments or CANDIDATES.get(p.diagnosis.cancer_type if p.diagnosis else "", ())
            if not names:
                skipped["no candidate treatments for the cancer type"] += 1
                continue
            patients.append(p.model_copy(update={"candidate_treatments": tuple(TreatmentOption(regimen=r)
                                                                                for r in names)}))
        vcf = cohort.vcf_path
        pts = cohort.patients
        sample_of = {r.patient_id: r.sample_id for r in pts.itertuples()
                     if isinstance(r.sample_id, str) and r.sample_id}

    # -- PGx once for the chunk's samples
    profiles: dict[str, Any] = {}
    if vcf is not None and sample_of:
        with timer.stage("pgx"):
            sex = {s: str(x) for s, x in zip(pts["sample_id"], pts["sex"]) if isinstance(s, str) and isinstance(x, str)}
            by_sample = {s: pid for pid, s in sample_of.items()}
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                shard = task.pgx_vcf if task.pgx_vcf and Path(task.pgx_vcf).exists() else None
                for prof in call_pgx_cohort(shard or str(vcf), samples=list(by_sample), fill_missing_with_reference=True,
                                            sex=sex or None,
                                            accept_cyp2d6_without_copy_number=task.cyp2d6_without_copy_number):
                    profiles[by_sample[prof.sample]] = prof
            for w in caught:
                if issubclass(w.category, DegradedResultWarning):
                    warn["pgx: " + warning_kind(str(w.message))] += 1

    # -- DNA LM gene features of the chunk's samples (as score_patient computes them from the VCF)
    lm_by_patient: dict[str, Any] | None = None
    genes = _dnalm_genes(ctx.bundle)
    lm_table = None
    if genes and task.dnalm_features:
        with timer.stage("dnalm"):
            lm_table, waited = _dnalm_table(task.dnalm_features, task.plan, wait=DNALM_WAIT_SECONDS)
        if waited > 0.001:  # idle while the caller's prepass finished (first chunks only): reported apart
            timer.add("dnalm", -waited)
            timer.add("wait", waited)
    if lm_table is not None and tuple(lm_table["genes"]) == genes:
        scored = {p.patient_id for p in patients}
        lm_by_patient = {}
        for pid, smp in sample_of.items():
            if pid in scored and smp not in lm_table["missing"]:
                lm_by_patient[pid] = lm_table["carriers"].get(smp, lm_table["default"])
    elif genes and vcf is not None and sample_of:
        from recommender.dnalm_features import dnalm_features_for_samples

        scored = {p.patient_id for p in patients}
        wanted = {pid: s for pid, s in sample_of.items() if pid in scored and pid in profiles}
        try:
            with ignore_library_noise():
                lm = dnalm_features_for_samples(str(vcf), list(dict.fromkeys(wanted.values())), genes,
                                                cache=task.dnalm_cache, timer=timer)
            lm_by_patient = {pid: lm[s] for pid, s in wanted.items() if s in lm}
        except RecommenderError as err:  # scored without DNA LM features (each result says so), counted here
            warn["dnalm: " + warning_kind(err.message if hasattr(err, "message") else str(err))] += 1

    # -- covariates of the chunk's patients from the patients table (same reading as training)
    covs = _chunk_covariates(ctx.bundle, pts, {p.patient_id for p in patients})

    # -- germline BRCA1/2 of the chunk's samples (PARP-inhibitor eligibility, as score_patient reads them)
    germline_by_patient: dict[str, Any] | None = None
    if vcf is not None and sample_of:
        from genomics.biomarkers.germline import read_germline_genes_cohort

        with timer.stage("germline_genes"):
            try:
                by_smp = read_germline_genes_cohort(str(vcf), list(dict.fromkeys(sample_of.values())))
                germline_by_patient = {pid: by_smp[s] for pid, s in sample_of.items() if s in by_smp}
            except RecommenderError as err:  # scored with germline BRCA "not assessed" (each result says so)
                warn["germline BRCA: " + warning_kind(err.message if hasattr(err, "message") else str(err))] += 1

    # -- score: the whole chunk is one model batch
    rows: list[dict[str, Any]] = []
    n_scored = 0
    knowledge: dict[str, Any] | None = None
    # library noise is hidden by category; a DegradedResultWarning escaping a result is counted like the results'
    # own warnings, any other warning is passed on (never a blanket "ignore")
    with warnings.catch_warnings(record=True) as caught_scoring:
        install_library_noise_filters()
        warnings.simplefilter("always", DegradedResultWarning)
        chunk_ctx = ScoringContext(ctx.bundle if ctx.bundle is not None else False)
        for res in score_patients(patients, context=chunk_ctx, ranking=RankingOptions(explain=False),
                                  on_error="yield", pgx_profiles=profiles, dnalm_features=lm_by_patient,
                                  batch_size=max(1, len(patients)), timer=timer, covariates=covs,
                                  germline_genes=germline_by_patient):
            if isinstance(res, RecommenderError):
                skipped[f"{type(res).__name__}: {warning_kind(res.message if hasattr(res, 'message') else str(res))}"] += 1
                continue
            n_scored += 1
            if knowledge is None:
                knowledge = _knowledge(res.provenance)
            with timer.stage("output"):
                for w in res.warnings:
                    warn[warning_kind(w)] += 1
                rows.extend(_rows(res, task.index, profiles.get(res.patient_id)))
    for w in caught_scoring:
        if issubclass(w.category, DegradedResultWarning):
            warn[warning_kind(str(w.message))] += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    with timer.stage("output"):
        table = pa.Table.from_pylist(rows, schema=ROW_SCHEMA) if rows else ROW_SCHEMA.empty_table()
    stats = {"chunk": task.index, "n_patients": len(task.patient_ids), "n_scored": n_scored,
             "n_skipped": sum(skipped.values()), "n_rows": len(rows), "skipped": dict(skipped),
             "warnings": dict(warn), "pid": os.getpid(), "host": socket.gethostname(), "knowledge": knowledge}
    part = Path(task.part_path)
    tmp = part.with_name(f"{part.name}.tmp-{os.getpid()}")
    write_start = time.perf_counter()
    try:
        # the write itself is timed from here; its seconds are added to "output" after the file exists
        stage = {k: round(v, 4) for k, v in timer.seconds.items()}
        stats.update(seconds=round(time.perf_counter() - start, 3), stage_seconds=stage, peak_rss_kib=_peak_rss_kib(),
                     ru_maxrss_kib=_ru_maxrss_kib())
        table = table.replace_schema_metadata({PLAN_KEY: task.plan.encode(),
                                               STATS_KEY: json.dumps(stats, sort_keys=True).encode()})
        pq.write_table(table, tmp)
        os.replace(tmp, part)
    finally:
        if tmp.exists():
            tmp.unlink()
    write_seconds = time.perf_counter() - write_start
    stats["stage_seconds"]["output"] = round(stats["stage_seconds"].get("output", 0.0) + write_seconds, 4)
    stats["seconds"] = round(time.perf_counter() - start, 3)
    return stats


def _chunk_covariates(bundle: Any, pts: Any, wanted: set[str]) -> dict[str, dict[str, Any]] | None:
    """``patient_id -> covariates block`` (ER/MSI/TMB and the bundle's declared covariates) for the chunk."""
    if bundle is None or not hasattr(bundle, "schema"):
        return None
    from recommender.features.covariates import specs_from_dicts
    from recommender.models.training import patient_covariates

    specs = specs_from_dicts((getattr(bundle, "metadata", None) or {}).get("covariates") or [])
    out = {}
    for rec in pts.to_dict("records"):
        pid = str(rec["patient_id"])
        if pid in wanted:
            out[pid] = patient_covariates(rec, bundle.schema, specs)
    return out


def check_bundle_covariates(spec: str | bool | None, cohort: Any, *, fill: bool) -> list[str]:
    """Refuse a cohort without a covariate column the bundle needs (unless ``fill``); the notes to report."""
    if not isinstance(spec, str):
        return []
    from cohorts.covariates import check_cohort_covariates
    from recommender.features.covariates import specs_from_dicts

    try:
        meta = json.loads((Path(spec) / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # the bundle itself is verified (and refused with its reason) when it is loaded
    specs = specs_from_dicts(meta.get("covariates") or [])
    cols = pq.read_schema(cohort.path / cohort.manifest.tables["patients"].path).names
    import pandas as pd

    return check_cohort_covariates(specs, pd.DataFrame(columns=cols), fill=fill, cohort_path=cohort.path)


def _patients_with_errors(cohort: Any, ids: Sequence[str], skipped: Counter[str]) -> list[Any]:
    """The chunk's patients; a record that fails validation is counted in ``skipped`` and the rest still come."""
    from cohorts.storage import _patients_from_tables

    out: list[Any] = []
    try:
        out.extend(_patients_from_tables(cohort))
        return out
    except RecommenderError:
        pass
    # a bad record stops the generator: go one patient at a time for the rest
    seen = {p.patient_id for p in out}
    for pid in ids:
        if pid in seen:
            continue
        try:
            out.extend(_patients_from_tables(cohort, only={pid}))
        except RecommenderError as err:
            skipped[f"invalid record: {type(err).__name__}"] += 1
    order = {pid: i for i, pid in enumerate(ids)}
    return sorted(out, key=lambda p: order.get(p.patient_id, len(order)))


# ------------------------------------------------------------------------------------------------ progress
class _Progress:
    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, initial, enabled
        self.start, self.initial = time.perf_counter(), initial
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, initial=initial, unit="patient", desc="scoring", file=sys.stderr,
                                dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(n)
            return
        el = time.perf_counter() - self.start
        rate = (self.done - self.initial) / el if el > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        print(f"\rscoring {self.done}/{self.total} patients  {rate:.1f} patients/s  ETA {eta:.0f} s",
              end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)


class _StageProgress:
    """Progress of the stages before and after the chunks: a tqdm bar per stage on stderr (CLI) and
    ``on_stage(stage, done, total)`` (app). Thread-safe enough for the DNA LM pre-pass thread: one writer."""

    LABELS = {"pgx_shards": "PGx positions per chunk", "dnalm": "DNA LM features"}
    UNITS = {"pgx_shards": "step", "dnalm": "sample"}

    def __init__(self, enabled: bool, on_stage: Callable[[str, int, int], None] | None) -> None:
        self.enabled, self.on_stage = enabled, on_stage
        self.bars: dict[str, Any] = {}

    def update(self, stage: str, done: int, total: int) -> None:
        if self.on_stage is not None:
            self.on_stage(stage, done, total)
        if not self.enabled or stage not in self.LABELS:
            return
        bar = self.bars.get(stage)
        if bar is None:
            try:
                from tqdm import tqdm
            except ImportError:
                print(f"\r{self.LABELS[stage]} {done}/{total}", end="", file=sys.stderr, flush=True)
                return
            bar = self.bars[stage] = tqdm(total=total, unit=self.UNITS[stage], desc=self.LABELS[stage],
                                          file=sys.stderr, dynamic_ncols=True, leave=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


# ------------------------------------------------------------------------------------------------ the run
def _cancelled(cancel: Any) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def _run_tasks(tasks: list[ChunkTask], workers: int, scheduler: Any, spec: str | bool | None,
               on_done: Callable[[dict[str, Any]], None], cancel: Any = None,
               prepass: Callable[[], None] | None = None) -> bool:
    """Run the chunk tasks; returns False when ``cancel`` fired (finished chunks are kept, the rest not run).

    ``prepass()`` (the DNA LM features of the run) runs in this process: before the chunks with one process,
    right after submitting them otherwise (workers start up and read their chunks meanwhile, then wait for its
    file at their DNA LM step).
    """
    if not tasks:
        return True
    if scheduler is not None:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed, which is not installed", field="scheduler",
                             fix="pip install 'genomics-treatment-recommender[cluster]'") from None
        if hasattr(scheduler, "submit"):
            client = scheduler
        else:
            try:
                client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as err:
                raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {err}", field="scheduler",
                                 fix="start 'dask scheduler' and 'dask worker ADDRESS' first, or drop --scheduler"
                                 ) from None
        try:
            futures = [client.submit(score_chunk, t, pure=False, key=f"score-chunk-{t.plan}-{t.index}") for t in tasks]
            if prepass is not None:
                prepass()
            for fut in as_completed(futures):
                on_done(fut.result())
                if _cancelled(cancel):
                    client.cancel([f for f in futures if not f.done()])
                    return False
        finally:
            if client is not scheduler:
                client.close()
        return True
    if workers <= 1:
        if prepass is not None:
            prepass()
        for t in tasks:
            if _cancelled(cancel):
                return False
            on_done(score_chunk(t))
        return True
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import as_completed as cf_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=init_worker, initargs=(spec,)) as pool:
        futs = [pool.submit(score_chunk, t) for t in tasks]
        if prepass is not None:
            prepass()
        for f in cf_completed(futs):
            on_done(f.result())
            if _cancelled(cancel):
                for other in futs:
                    other.cancel()  # chunks already running finish and are kept
                return False
    return True


def score_cohort(
    cohort_dir: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    chunk_size: int = 200,
    workers: int = 1,
    bundle: str | os.PathLike[str] | bool | None = None,
    scheduler: Any = None,
    progress: bool = True,
    treatments: Sequence[str] | None = None,
    keep_parts: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    cancel: Any = None,
    dnalm_cache: str | os.PathLike[str] | None = None,
    fill_missing_covariates: bool = False,
    on_stage: Callable[[str, int, int], None] | None = None,
    overwrite: bool = False,
    cyp2d6_without_copy_number: bool = False,
) -> ScoreSummary:
    """Score every patient of a cohort and write one Parquet row per patient x candidate option.

    Parameters
    ----------
    cohort_dir
        Cohort directory (``recommender cohort import|simulate``).
    out_path
        Output Parquet file; chunk files go to ``OUT.parts/`` (kept until the final file is written).
    chunk_size
        Patients per chunk (unit of work, of resumption and of memory).
    workers
        Local processes (``1``: in this process).
    bundle
        Model bundle directory; ``None``: the default bundle; ``False``: no model numbers.
    scheduler
        Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``: chunks run on the cluster
        (every worker must see ``cohort_dir`` and ``out_path`` on shared storage).
    progress
        Show a progress bar (tqdm when installed) on stderr.
    treatments
        Regimens scored for every patient (default: the candidates of the patient's cancer type).
    keep_parts
        Keep the chunk files after the final file is written.
    on_progress
        Called as ``on_progress(patients_done, patients_total)`` after each chunk (e.g. an app's progress bar).
    on_stage
        Called as ``on_stage(stage, done, total)`` for every stage of :data:`PROGRESS_STAGES`:
        ``pgx_shards`` (chunks' VCF slices, 0/1 then 1/1), ``dnalm`` (samples whose DNA LM features are
        computed), ``scoring`` (patients) and ``writing`` (chunks concatenated), so that a progress bar moves
        during the DNA LM pre-pass as well.
    cancel
        A :class:`threading.Event` or a no-argument callable; when it is set / returns true, no new chunk is
        started, finished chunk files are kept and :class:`~cohorts.errors.ScoringCancelled` is raised (a
        re-run with the same arguments resumes).
    dnalm_cache
        SQLite DNA LM score cache (used when the bundle has DNA LM genes; safe with several processes; on a
        cluster give a path every worker can open, e.g. local disk). Default: ``OUT.parquet.parts/`` +
        :data:`DNALM_CACHE_NAME`, removed with the chunk files unless ``keep_parts``.
    fill_missing_covariates
        Each patient's covariates (ER status, a bundle's declared covariates) are read from the patients table;
        a cohort without a covariate column the bundle needs is refused unless this is set (the column is then
        filled with the bundle's training medians and the summary's warnings say so).

    overwrite
        Replace an existing ``out_path`` that is not a ``cohort score`` output (default: refused, so a typo
        cannot overwrite an unrelated file; an output of ours is rewritten, which is how a run resumes).
    cyp2d6_without_copy_number
        Use the CYP2D6 call made from SNVs/indels alone, for guidance and as the models' CYP2D6 features, as
        ``recommender score --cyp2d6-without-copy-number`` does (default: without a copy-number source CYP2D6 is
        provisional and not used; every affected row says which). Part of the run's plan: chunks scored
        without it are not reused.

    Returns
    -------
    ScoreSummary
    """
    from cohorts.storage import load_cohort

    start = time.perf_counter()
    if workers < 1:
        raise UsageError(f"workers must be >= 1, not {workers}", field="workers", fix="use --workers 1 or more")
    cohort_path = Path(cohort_dir).resolve()
    out = check_output_path(out_path, overwrite=overwrite)
    cohort = load_cohort(cohort_path, validate=False)
    ids = [str(x) for x in pq.read_table(cohort_path / cohort.manifest.tables["patients"].path,
                                         columns=["patient_id"]).column("patient_id").to_pylist()]
    chunks = plan_chunks(ids, chunk_size)
    spec = _bundle_spec(bundle)
    covariate_notes = check_bundle_covariates(spec, cohort, fill=fill_missing_covariates)
    treat = tuple(treatments) if treatments else None
    plan = _plan_hash(cohort_path, chunk_size, spec, treat, cyp2d6_without_copy_number)
    parts = parts_dir(out)
    parts.mkdir(parents=True, exist_ok=True)
    for stale in parts.glob("*.tmp-*"):
        stale.unlink(missing_ok=True)
    default_cache = dnalm_cache is None
    cache_path = str(parts / DNALM_CACHE_NAME) if default_cache else str(Path(dnalm_cache).resolve())

    stats: dict[int, dict[str, Any]] = {}
    tasks: list[ChunkTask] = []
    for i, chunk in enumerate(chunks):
        path = parts / _part_name(i)
        done = _finished(path, plan)
        if done is not None:
            stats[i] = done
        else:
            tasks.append(ChunkTask(str(cohort_path), i, chunk, str(path), spec, treat, plan, cache_path,
                                   cyp2d6_without_copy_number=cyp2d6_without_copy_number))
    reused = len(stats)
    # -- each chunk's slice of the VCF at the PGx positions, in one pass (chunk cost independent of cohort size)
    split_seconds = 0.0
    stage_bar = _StageProgress(progress, on_stage)
    if len(tasks) > 1 and cohort.vcf_path is not None:
        split_start = time.perf_counter()
        stage_bar.update("pgx_shards", 0, 1)
        tasks, _ = _pgx_shards(cohort_path, cohort, tasks, parts, plan)
        stage_bar.update("pgx_shards", 1, 1)
        split_seconds = time.perf_counter() - split_start
    # -- DNA LM features of every sample, once (the workers read them from lm_path)
    lm_seconds: dict[str, float] = {}
    lm_failed: list[str] = []
    lm_genes = _bundle_dnalm_genes(spec)
    lm_path = parts / DNALM_FEATURES_NAME
    prepass = None
    if tasks and lm_genes and cohort.vcf_path is not None:
        old = _read_dnalm_file(lm_path) if lm_path.exists() else None
        if old is None or old.get("plan") != plan or "error" in old:
            lm_path.unlink(missing_ok=True)  # never let a worker read a stale file
        tasks = [replace(t, dnalm_features=str(lm_path)) for t in tasks]

        def prepass() -> None:
            try:
                lm_seconds.update(_dnalm_prepass(cohort_path, cohort.vcf_path, lm_genes, plan, lm_path, cache_path,
                                                 on_samples=lambda d, t: stage_bar.update("dnalm", d, t)))
            except BaseException as err:  # workers must not wait: they compute their chunks' features themselves
                _write_json_atomic(lm_path, {"plan": plan, "error": type(err).__name__})
                if not isinstance(err, Exception):  # Ctrl-C, SystemExit: stop as before
                    raise
                lm_failed.append(f"dnalm: prepass failed ({type(err).__name__}), features computed per chunk")

    bar = _Progress(len(ids), sum(s["n_patients"] for s in stats.values()), progress)

    def on_done(s: dict[str, Any]) -> None:
        stats[s["chunk"]] = s
        bar.update(s["n_patients"])
        if on_progress is not None:
            on_progress(bar.done, len(ids))
        if on_stage is not None:
            on_stage("scoring", bar.done, len(ids))

    if on_progress is not None:
        on_progress(bar.done, len(ids))
    if on_stage is not None and prepass is None:
        on_stage("scoring", bar.done, len(ids))
    try:
        completed = _run_tasks(tasks, workers, scheduler, spec, on_done, cancel, prepass=prepass)
    finally:
        bar.close()
        stage_bar.close()
    if not completed:
        from cohorts.errors import ScoringCancelled

        raise ScoringCancelled(f"cohort scoring cancelled after {len(stats)} of {len(chunks)} chunks "
                               f"({bar.done} of {len(ids)} patients)", file=str(out),
                               fix="re-run the same command to resume from the finished chunks")

    # -- concatenate in chunk order, streaming, atomically
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    meta = {b"recommender.cohort_score": json.dumps({
        "package_version": _package_version(), "cohort": cohort.manifest.name, "cohort_dir": str(cohort_path),
        "cohort_version": cohort.manifest.version, "plan": plan,
        "chunk_size": chunk_size, "genome_build": "GRCh38", "n_chunks": len(chunks),
        "knowledge_bases": next((stats[i]["knowledge"] for i in sorted(stats) if stats[i].get("knowledge")), None),
        "options": {"cyp2d6_without_copy_number": bool(cyp2d6_without_copy_number),
                    "fill_missing_covariates": bool(fill_missing_covariates), "treatments": list(treat or ())},
    }, sort_keys=True).encode()}
    schema = ROW_SCHEMA.with_metadata(meta)
    # a new file (O_EXCL, no symbolic link followed), renamed into place: never a write through someone's link
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle, pq.ParquetWriter(handle, schema) as writer:
            for i in range(len(chunks)):
                part = pq.read_table(parts / _part_name(i), schema=ROW_SCHEMA)
                writer.write_table(part.replace_schema_metadata(meta))
                if on_stage is not None:
                    on_stage("writing", i + 1, len(chunks))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    if not keep_parts:
        for i in range(len(chunks)):
            (parts / _part_name(i)).unlink(missing_ok=True)
        (parts / DNALM_FEATURES_NAME).unlink(missing_ok=True)
        for shard in parts.glob(f"pgx-{plan}-*.vcf.gz*"):
            shard.unlink(missing_ok=True)
        if default_cache:
            _close_cache(cache_path)
            for suffix in ("", "-wal", "-shm"):
                Path(cache_path + suffix).unlink(missing_ok=True)
        try:
            parts.rmdir()
        except OSError:
            pass

    skipped: Counter[str] = Counter()
    warn: Counter[str] = Counter()
    for s in stats.values():
        skipped.update(s["skipped"])
        warn.update(s["warnings"])
    warn.update(lm_failed)
    warn.update({note: len(ids) for note in covariate_notes})
    seconds = time.perf_counter() - start
    n_computed = sum(stats[t.index]["n_patients"] for t in tasks)
    stage_seconds, peak_rss = _resources([stats[t.index] for t in tasks] + [{"stage_seconds": lm_seconds},
                                                  {"stage_seconds": {"pgx": split_seconds} if split_seconds else {}}])
    return ScoreSummary(
        output=str(out), n_patients=len(ids), n_scored=sum(s["n_scored"] for s in stats.values()),
        n_skipped=sum(s["n_skipped"] for s in stats.values()), n_rows=sum(s["n_rows"] for s in stats.values()),
        n_chunks=len(chunks), chunks_reused=reused, chunks_computed=len(tasks), workers=workers,
        scheduler=None if scheduler is None else str(getattr(scheduler, "scheduler_address", scheduler)),
        seconds=round(seconds, 2), patients_per_second=round(n_computed / seconds, 2) if n_computed else None,
        skipped=dict(sorted(skipped.items())), warnings=dict(sorted(warn.items())), stage_seconds=stage_seconds,
        peak_rss_mb_per_worker=peak_rss)


def _resources(computed: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Stage seconds summed over chunk stats, and the peak RSS (MB) of each worker that computed them."""
    stage: dict[str, float] = {}
    for st in computed:
        for name, sec in (st.get("stage_seconds") or {}).items():
            stage[name] = stage.get(name, 0.0) + float(sec)
    order = {name: i for i, name in enumerate(STAGES)}
    stage_seconds = {k: round(v, 3) for k, v in sorted(stage.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))}
    here = socket.gethostname()
    peak: dict[str, float] = {}
    for st in computed:
        if "pid" not in st or "peak_rss_kib" not in st:
            continue
        key = str(st["pid"]) if st.get("host", here) == here else f"{st['host']}:{st['pid']}"
        peak[key] = max(peak.get(key, 0.0), round(st["peak_rss_kib"] / 1024, 1))
    return stage_seconds, peak


def _close_cache(path: str) -> None:
    """Close this process's connection to a DNA LM cache file (before the file is removed)."""
    from recommender import dnalm_features

    key = str(Path(path).resolve())
    cache = dnalm_features._CACHES.pop(key, None)
    if cache is not None:
        cache.close()
