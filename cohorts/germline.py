"""Genotype-based germline source of the simulator: real 1000 Genomes haplotypes -> GRCh38 VCF -> PGx caller.

:class:`RealGenotypeSource` implements :class:`cohorts.simulate.GermlineSource`. For ``n`` patients it

1. draws each patient's super-population (shares of :data:`cohorts.simulate.POPULATIONS`) and sex (the
   cancer type's share of women);
2. gives each patient germline haplotypes from the shipped panel (:mod:`cohorts.germline_panel`, 3,202
   real people of 1000 Genomes at the pharmacogene defining positions):

   * ``mode="auto"`` (default): a distinct real person of the same super-population and sex (sex from
     chrX ploidy) while such people remain, then recombinants; ``mode="real"``: real people only
     (error when there are not enough); ``mode="recombine"``: recombinants only;
   * a **recombinant** belongs to one 1000 Genomes population (e.g. YRI, drawn with the panel's
     shares inside the super-population). For every gene block (genes within 1 Mb form one block:
     CYP2C9+CYP2C19, CYP3A4+CYP3A5; all others are on different chromosomes or megabases apart, so they
     assort independently) its two haplotypes are drawn from two *different* real people of that
     population (one haplotype each, chosen at random). Inside a block a haplotype is copied whole, so
     the real linkage between its variants is kept. chrX (G6PD): a man receives the single chrX of a
     real man of his population, a woman one chrX haplotype from each of two different people;
   * DPYD comes from the GRCh37 phase-3 file mapped to GRCh38 (PyPGx table). The 698 people without
     DPYD data get a recombinant DPYD block from people of their own population who have it;

3. adds germline BRCA1/2 loss-of-function variants (heterozygous) to carriers drawn with the cancer
   type's carrier rate (``brca_rate``, from :data:`cohorts.simulate_model.CANCER_SETTINGS`), choosing the
   variant from the curated, cited table ``cohorts/data/germline_brca_variants.tsv``;
4. writes a multi-sample GRCh38 VCF (bgzip + tabix, ``##contig`` lines with GRCh38 lengths, sorted,
   only sites that vary in the cohort; written atomically);
5. calls every panel gene with the product's PGx caller (:func:`genomics.pgx.call_pgx_cohort`) on that
   VCF with ``fill_missing_with_reference=True`` -- the VCF lists only variable sites, like the 1000
   Genomes files, so an absent defining position is homozygous reference (each call records the
   filled positions) -- and maps the calls to the simulator's phenotype columns:

   * ``dpyd_activity_score``: DPYD activity score;
   * ``ugt1a1_poor``: UGT1A1 phenotype "Poor Metabolizer";
   * ``thiopurine_function``: the worse of TPMT and NUDT15 (normal / intermediate / poor);
   * ``cyp2d6_activity_score``: CYP2D6 activity score **from SNVs and small indels only**: gene
     deletions (*5), duplications and CYP2D6/2D7 hybrids are invisible in a VCF, so every CYP2D6
     copy-number allele is missed (ultrarapid metabolisers by duplication cannot occur, *5 carriers look
     like the allele on their other chromosome);
   * the full per-gene table (diplotype, phenotype, activity score, status) as ``pgx_<GENE>_*`` columns
     that the simulator stores in ``truth/germline``.

   A gene the caller leaves uncalled (status ``ambiguous`` without a phenotype, ``not_called``...)
   gives ``NaN``; the phenotype is then drawn from the population prior (the same frequencies as
   :class:`cohorts.simulate.PhenotypePriorSource`) and recorded in ``pgx_fallback`` (which phenotypes
   came from the prior).

Everything is drawn from the ``rng`` the simulator passes in: the same seed gives byte-identical VCF
content and tables.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cohorts.germline_panel import DATA_DIR, MISSING_HAP, PANEL_GENES, HaplotypePanel, load_panel
from genomics.errors import DegradedResultWarning, UsageError

__all__ = [
    "BRCA_VARIANTS_PATH",
    "MAX_PATIENTS_VCF",
    "GenotypeDraw",
    "RealGenotypeSource",
    "draw_genotypes",
    "load_brca_variants",
    "phenotype_columns",
    "write_germline_vcf",
]

BRCA_VARIANTS_PATH = DATA_DIR / "germline_brca_variants.tsv"
#: Largest cohort written with a VCF.
MAX_PATIENTS_VCF = 100_000
_MODES = ("auto", "real", "recombine")
_THIO_RANK = {"normal": 0, "intermediate": 1, "poor": 2}


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("genomics-treatment-recommender")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def load_brca_variants(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The curated germline BRCA1/2 loss-of-function variants (``cohorts/data/germline_brca_variants.tsv``)."""
    df = pd.read_csv(path or BRCA_VARIANTS_PATH, sep="\t", comment="#", dtype={"pos": np.int64})
    df["weight"] = df["weight"].astype(float)
    return df


# --------------------------------------------------------------------------------------- drawing
@dataclass
class GenotypeDraw:
    """Genotypes of ``n`` simulated people at the panel sites and where each haplotype came from.

    ``genotypes``: ``uint8 (n_sites, n, 2)`` (``255`` = no second chrX); ``person``: index of the real
    panel person (``-1`` for a recombinant); ``donors``: ``(n, n_blocks, 2)`` panel person of each block's
    two haplotypes (``-1`` none); ``donor_haps``: which of that person's haplotypes (0/1).
    """

    genotypes: np.ndarray
    population: np.ndarray
    super_population: np.ndarray
    sex: np.ndarray
    person: np.ndarray
    donors: np.ndarray
    donor_haps: np.ndarray
    blocks: list[str]


def _pick_two(rng: np.random.Generator, m: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` pairs of distinct indices in ``range(m)``."""
    a = rng.integers(0, m, size=k)
    b = (a + 1 + rng.integers(0, max(m - 1, 1), size=k)) % m
    return a, b


def draw_genotypes(panel: HaplotypePanel, n: int, rng: np.random.Generator, female_share: np.ndarray,
                   *, mode: str = "auto", super_shares: dict[str, float] | None = None) -> GenotypeDraw:
    """Draw ``n`` people's panel genotypes (see the module docstring for the scheme)."""
    from cohorts.simulate import POPULATIONS

    if mode not in _MODES:
        raise UsageError(f"unknown germline mode {mode!r}", field="mode", fix=f"choose one of {', '.join(_MODES)}")
    shares = dict(super_shares or POPULATIONS)
    sps = np.array(sorted(shares))
    p = np.array([shares[s] for s in sps], dtype=float)
    superpop = sps[rng.choice(len(sps), size=n, p=p / p.sum())]
    female = rng.random(n) < np.asarray(female_share, dtype=float)
    sex = np.where(female, "female", "male").astype(object)
    person = np.full(n, -1, dtype=np.int64)
    population = np.empty(n, dtype=object)
    usable = panel.super_population != ""
    if mode in ("auto", "real"):
        for sp in sps:
            for sx in ("female", "male"):
                idx = np.flatnonzero((superpop == sp) & (sex == sx))
                people = np.flatnonzero(usable & (panel.super_population == sp) & (panel.sex == sx))
                if mode == "real" and len(idx) > len(people):
                    raise UsageError(f"{len(idx)} {sx} {sp} patients but only {len(people)} real people of that "
                                     "group in the panel", field="mode",
                                     fix="use mode='auto' or 'recombine' (recombined haplotypes) or fewer patients")
                k = min(len(idx), len(people))
                person[idx[:k]] = rng.permutation(people)[:k]
    real = person >= 0
    population[real] = panel.population[person[real]]
    # population of recombinants: the panel's population shares inside the super-population
    for sp in sps:
        idx = np.flatnonzero(~real & (superpop == sp))
        if len(idx):
            codes, counts = np.unique(panel.population[usable & (panel.super_population == sp)], return_counts=True)
            population[idx] = codes[rng.choice(len(codes), size=len(idx), p=counts / counts.sum())]

    H = panel.haplotypes
    blocks = panel.blocks
    G = np.full((H.shape[0], n, 2), MISSING_HAP, dtype=np.uint8)
    donors = np.full((n, len(blocks), 2), -1, dtype=np.int64)
    dhaps = np.full((n, len(blocks), 2), -1, dtype=np.int8)
    if real.any():
        G[:, real, :] = H[:, person[real], :]
        donors[real, :, 0] = person[real, None]
        donors[real, :, 1] = person[real, None]
        dhaps[real, :, 0], dhaps[real, :, 1] = 0, 1
    pops_sorted = sorted({str(x) for x in population})
    for b, block in enumerate(blocks):
        rows = panel.block_rows(block)
        is_dpyd = block == "DPYD"
        is_x = str(panel.sites["chrom"].iloc[rows[0]]) == "chrX"
        need = ~real
        if is_dpyd:
            need = need | (real & ~panel.dpyd_available[np.maximum(person, 0)])
        for pop in pops_sorted:
            idx = np.flatnonzero(need & (population == pop))
            if not len(idx):
                continue
            pool = usable & (panel.population == pop)
            if is_dpyd:
                pool &= panel.dpyd_available
            if is_x:
                _draw_x(rng, H, G, rows, idx, sex, pool, panel, donors, dhaps, b)
                continue
            cand = np.flatnonzero(pool)
            if len(cand) < 2:  # pragma: no cover - every 1000 Genomes population has dozens of people
                cand = np.flatnonzero(usable & (panel.super_population == panel.super_population[
                    np.flatnonzero(panel.population == pop)[0]]) & (panel.dpyd_available if is_dpyd else True))
            a, c = _pick_two(rng, len(cand), len(idx))
            ha = rng.integers(0, 2, size=len(idx))
            hc = rng.integers(0, 2, size=len(idx))
            d1, d2 = cand[a], cand[c]
            G[np.ix_(rows, idx, [0])] = H[rows][:, d1, ha][:, :, None]
            G[np.ix_(rows, idx, [1])] = H[rows][:, d2, hc][:, :, None]
            donors[idx, b, 0], donors[idx, b, 1] = d1, d2
            dhaps[idx, b, 0], dhaps[idx, b, 1] = ha, hc
    return GenotypeDraw(genotypes=G, population=population, super_population=superpop, sex=sex, person=person,
                        donors=donors, donor_haps=dhaps, blocks=blocks)


def _draw_x(rng, H, G, rows, idx, sex, pool, panel, donors, dhaps, b) -> None:
    """chrX block: men get one real man's chrX; women one chrX haplotype of each of two different people."""
    men = idx[sex[idx] == "male"]
    women = idx[sex[idx] == "female"]
    if len(men):
        cand = np.flatnonzero(pool & (panel.sex == "male"))
        d = cand[rng.integers(0, len(cand), size=len(men))]
        G[np.ix_(rows, men, [0])] = H[rows][:, d, 0][:, :, None]
        G[np.ix_(rows, men, [1])] = MISSING_HAP
        donors[men, b, 0], dhaps[men, b, 0] = d, 0
    if len(women):
        cand = np.flatnonzero(pool)
        a, c = _pick_two(rng, len(cand), len(women))
        d1, d2 = cand[a], cand[c]
        # a man has one chrX (haplotype 0); a woman two
        h1 = np.where(panel.sex[d1] == "male", 0, rng.integers(0, 2, size=len(women)))
        h2 = np.where(panel.sex[d2] == "male", 0, rng.integers(0, 2, size=len(women)))
        G[np.ix_(rows, women, [0])] = H[rows][:, d1, h1][:, :, None]
        G[np.ix_(rows, women, [1])] = H[rows][:, d2, h2][:, :, None]
        donors[women, b, 0], donors[women, b, 1] = d1, d2
        dhaps[women, b, 0], dhaps[women, b, 1] = h1, h2


# --------------------------------------------------------------------------------------- VCF
def write_germline_vcf(path: str | os.PathLike[str], samples: list[str], sites: pd.DataFrame,
                       genotypes: np.ndarray, *, source: str = "cohorts.germline") -> Path:
    """Write a bgzipped, tabix-indexed, sorted multi-sample GRCh38 VCF (atomically).

    ``sites`` (``chrom, pos, id, ref, alt, gene, kind``) must be sorted; ``genotypes`` is ``uint8
    (n_sites, n_samples, 2)`` with allele 0/1 and ``255`` in column 1 for a haploid call. Sites where no
    sample carries the ALT allele are left out (only variable sites are written).
    """
    import pysam
    from pysam.libcbgzf import BGZFile

    from genomics.vcf import GRCH38_LENGTHS

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    contigs = list(dict.fromkeys(sites["chrom"]))
    header = [
        "##fileformat=VCFv4.2",
        f"##source={source} (genomics-treatment-recommender {_package_version()})",
        "##reference=GRCh38",
        *[f"##contig=<ID={c},length={GRCH38_LENGTHS[c.removeprefix('chr')]},assembly=GRCh38>" for c in contigs],
        '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene whose region holds the site">',
        ('##INFO=<ID=KIND,Number=1,Type=String,Description="defining (PGx allele-defining position), anchor '
         '(common nearby variant) or germline_lof (curated BRCA1/2 loss-of-function variant)'
         + (', germline_vus (BRCA1 variant of uncertain significance; its true effect is in the truth tables only)'
            if (sites["kind"] == "germline_vus").any() else "") + '">'),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]
    table = np.array(["0|0", "0|1", "1|0", "1|1", "0", "1", ".|.", "."], dtype=object)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with BGZFile(str(tmp), "wb") as out:
            out.write(("\n".join(header) + "\n").encode())
            for j, site in enumerate(sites.itertuples(index=False)):
                g = genotypes[j]
                a0, a1 = g[:, 0], g[:, 1]
                if not ((a0 == 1) | (a1 == 1)).any():
                    continue
                haploid = a1 == MISSING_HAP
                code = np.where(haploid, 4 + np.minimum(a0, 1), np.minimum(a0, 1) * 2 + np.minimum(a1, 1))
                code = np.where(a0 == MISSING_HAP, np.where(haploid, 7, 6), code)
                line = (f"{site.chrom}\t{int(site.pos)}\t{site.id or '.'}\t{site.ref}\t{site.alt}\t.\tPASS\t"
                        f"GENE={site.gene};KIND={site.kind}\tGT\t" + "\t".join(table[code]) + "\n")
                out.write(line.encode())
        pysam.tabix_index(str(tmp), preset="vcf", force=True, keep_original=True)
        os.replace(f"{tmp}.tbi", f"{path}.tbi")
        os.replace(tmp, path)
    except BaseException:
        for p in (tmp, Path(f"{tmp}.tbi")):
            Path(p).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------------------- phenotypes
def _as_float(text: str | None) -> float:
    if text is None:
        return float("nan")
    digits = "".join(ch for ch in str(text) if ch.isdigit() or ch == ".")
    try:
        return float(digits)
    except ValueError:
        return float("nan")


def _thio(phenotype: str | None) -> str | None:
    if phenotype is None:
        return None
    p = phenotype.lower()
    if p.startswith("poor"):
        return "poor"
    if "intermediate" in p:
        return "intermediate"
    if p.startswith(("normal", "rapid", "ultrarapid")):
        return "normal"
    return None


def phenotype_columns(profiles) -> pd.DataFrame:
    """Map :class:`~genomics.pgx.PgxProfile` objects to the simulator's phenotype columns (NaN = uncalled).

    Returns the four model columns plus ``pgx_<GENE>_{diplotype,phenotype,activity_score,status}``.
    """
    rows = []
    for prof in profiles:
        row: dict = {}
        for gene, call in prof.genes.items():
            called = call.callable
            row[f"pgx_{gene}_diplotype"] = " | ".join(d.name for d in call.diplotypes) or None
            row[f"pgx_{gene}_phenotype"] = call.phenotype if called else None
            row[f"pgx_{gene}_activity_score"] = call.activity_score if called else None
            row[f"pgx_{gene}_status"] = call.status
        def get(g: str, k: str, row: dict = row):
            return row.get(f"pgx_{g}_{k}")

        row["dpyd_activity_score"] = _as_float(get("DPYD", "activity_score"))
        ugt = get("UGT1A1", "phenotype")
        row["ugt1a1_poor"] = None if ugt is None else ugt.lower().startswith("poor")
        t, nd = _thio(get("TPMT", "phenotype")), _thio(get("NUDT15", "phenotype"))
        known = [x for x in (t, nd) if x is not None]
        worst = max(known, key=_THIO_RANK.get) if known else None
        # with one gene uncalled the worse of the two is known only if the called one is already poor
        row["thiopurine_function"] = worst if (len(known) == 2 or worst == "poor") else None
        row["_thiopurine_at_least"] = worst  # lower bound used when the prior fills the other gene
        row["cyp2d6_activity_score"] = _as_float(get("CYP2D6", "activity_score"))
        rows.append(row)
    return pd.DataFrame(rows)


def _prior_fill(phen: pd.DataFrame, superpop: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Fill NaN model phenotypes from the population priors; returns the per-patient list of filled columns."""
    from cohorts.simulate import PhenotypePriorSource

    n = len(phen)
    filled = [[] for _ in range(n)]
    cols = ["dpyd_activity_score", "ugt1a1_poor", "thiopurine_function", "cyp2d6_activity_score"]
    missing = {c: phen[c].isna().to_numpy() for c in cols}
    if not any(m.any() for m in missing.values()):
        return pd.Series([""] * n)
    prior = PhenotypePriorSource().draw(n, rng, np.full(n, 0.5))
    # the prior source draws its own population; redraw per-population columns for ours
    from cohorts import simulate as S

    u = rng.random((n, 2))
    ugt = u[:, 0] < np.array([S._UGT1A1_POOR[p] for p in superpop])
    poor = np.array([S._THIO_POOR[p] for p in superpop])
    inter = np.array([S._THIO_INTERMEDIATE[p] for p in superpop])
    thio = np.where(u[:, 1] < poor, "poor", np.where(u[:, 1] < poor + inter, "intermediate", "normal"))
    if "_thiopurine_at_least" in phen:  # one of TPMT/NUDT15 known: the result is at least that bad
        floor = phen["_thiopurine_at_least"].to_numpy()
        thio = np.array([t if not isinstance(f, str) or _THIO_RANK[t] >= _THIO_RANK[f] else f
                         for t, f in zip(thio, floor)], dtype=object)
    values = {"dpyd_activity_score": prior.phenotypes["dpyd_activity_score"].to_numpy(), "ugt1a1_poor": ugt,
              "thiopurine_function": thio, "cyp2d6_activity_score": prior.phenotypes["cyp2d6_activity_score"].to_numpy()}
    for c in cols:
        m = missing[c]
        if m.any():
            col = phen[c].astype(object).to_numpy()
            col[m] = values[c][m]
            phen[c] = col
            for i in np.flatnonzero(m):
                filled[i].append(c)
    return pd.Series([",".join(f) for f in filled])


# --------------------------------------------------------------------------------------- the source
class RealGenotypeSource:
    """Germline source on real 1000 Genomes haplotypes (see the module docstring).

    Parameters
    ----------
    panel
        A :class:`~cohorts.germline_panel.HaplotypePanel`, a panel ``.npz`` path, or a 1000 Genomes
        ``population`` folder to build one from (slower: ~30 s); default the shipped panel.
    mode
        ``"auto"`` (real people first, then recombinants), ``"real"`` or ``"recombine"``.
    genes
        Genes to call (default every panel gene; the four model phenotypes need DPYD, UGT1A1, TPMT,
        NUDT15 and CYP2D6).
    workdir
        Folder for the VCF (default a temporary folder removed at exit; the simulator copies the VCF
        into the cohort when it is written).
    """

    #: tells :func:`cohorts.simulate.simulate_cohort` to pass per-patient germline BRCA1/2 carrier rates.
    uses_brca_rate = True

    def __init__(self, panel: HaplotypePanel | str | os.PathLike[str] | None = None, *, mode: str = "auto",
                 genes: list[str] | tuple[str, ...] | None = None, workdir: str | os.PathLike[str] | None = None,
                 brca_variants: pd.DataFrame | None = None) -> None:
        if mode not in _MODES:
            raise UsageError(f"unknown germline mode {mode!r}", field="mode", fix=f"choose one of {', '.join(_MODES)}")
        if isinstance(panel, HaplotypePanel):
            self.panel = panel
        elif panel is not None and Path(panel).is_dir():
            from cohorts.germline_panel import build_haplotype_panel

            self.panel = build_haplotype_panel(panel)
        else:
            self.panel = load_panel(panel)
        self.mode = mode
        self.genes = list(genes) if genes is not None else list(PANEL_GENES)
        unknown = [g for g in self.genes if g not in PANEL_GENES]
        if unknown:
            raise UsageError(f"gene(s) not in the haplotype panel: {', '.join(unknown)}", field="genes",
                             fix=f"choose among {', '.join(PANEL_GENES)}")
        self.workdir = Path(workdir) if workdir is not None else None
        self.brca = brca_variants if brca_variants is not None else load_brca_variants()
        self.last_draw: GenotypeDraw | None = None
        self.last_timings: dict[str, float] = {}
        self.description = (f"real 1000 Genomes haplotypes ({self.panel.n_people} people, {len(self.panel.sites)} "
                            f"panel sites; mode {mode}; gene blocks recombined within population) -> GRCh38 VCF -> "
                            "PGx caller (fill_missing_with_reference=True; CYP2D6 from SNVs only)")

    def _dir(self) -> Path:
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            return self.workdir
        d = Path(tempfile.mkdtemp(prefix="germline-"))
        atexit.register(shutil.rmtree, d, True)
        return d

    def draw(self, n: int, rng: np.random.Generator, female_share: np.ndarray,
             brca_rate: np.ndarray | None = None, extra_sites: tuple[pd.DataFrame, np.ndarray] | None = None):
        """Germline data of ``n`` patients (a :class:`cohorts.simulate.GermlineDraw` with a VCF).

        ``extra_sites``: further sites written into the VCF, ``(sites, genotypes)`` with the panel's site columns
        and ``uint8 (n_sites, n, 2)`` genotypes (the simulator's BRCA1 VUS, drawn from their own random stream;
        ``rng`` is not used for them, so every other draw is unchanged).
        """
        from cohorts.simulate import GermlineDraw
        from genomics.pgx import call_pgx_cohort

        if not 1 <= n <= MAX_PATIENTS_VCF:
            raise UsageError(f"n = {n} outside 1-{MAX_PATIENTS_VCF:,} for a cohort with a VCF", field="n",
                             fix="use the phenotype-prior source (tables only) for larger cohorts")
        t0 = time.perf_counter()
        gd = draw_genotypes(self.panel, n, rng, female_share, mode=self.mode)
        self.last_draw = gd
        width = max(6, len(str(n - 1)))
        samples = [f"GS{i:0{width}d}" for i in range(n)]
        # germline BRCA1/2 loss of function (heterozygous) by cancer type
        rate = np.zeros(n) if brca_rate is None else np.asarray(brca_rate, dtype=float)
        carrier = rng.random(n) < rate
        w = self.brca["weight"].to_numpy()
        which = rng.choice(len(self.brca), size=n, p=w / w.sum())
        side = rng.integers(0, 2, size=n)
        brca_sites = self.brca.assign(kind="germline_lof", block="BRCA", id=self.brca["rsid"],
                                      source="curated (cohorts/data/germline_brca_variants.tsv)")
        bg = np.zeros((len(self.brca), n, 2), dtype=np.uint8)
        ci = np.flatnonzero(carrier)
        bg[which[ci], ci, side[ci]] = 1
        sites = pd.concat([self.panel.sites, brca_sites[self.panel.sites.columns]], ignore_index=True)
        geno = np.concatenate([gd.genotypes, bg], axis=0)
        if extra_sites is not None:
            sites = pd.concat([sites, extra_sites[0][self.panel.sites.columns]], ignore_index=True)
            geno = np.concatenate([geno, np.asarray(extra_sites[1], dtype=np.uint8)], axis=0)
        from cohorts.germline_panel import _CONTIG_ORDER

        order = np.lexsort((np.arange(len(sites)), sites["pos"].to_numpy(),
                            sites["chrom"].map(lambda c: _CONTIG_ORDER.get(c, 99)).to_numpy()))
        sites, geno = sites.iloc[order].reset_index(drop=True), geno[order]
        t1 = time.perf_counter()
        vcf = write_germline_vcf(self._dir() / f"germline-{n}.vcf.gz", samples, sites, geno)
        t2 = time.perf_counter()

        sex_map = dict(zip(samples, gd.sex))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegradedResultWarning)
            # streamed: one profile at a time is mapped to a row (memory stays flat at 100,000 patients)
            # simulated genotypes carry no copy number: the SNV/indel CYP2D6 call is used on purpose (issue 12)
            phen = phenotype_columns(call_pgx_cohort(vcf, fill_missing_with_reference=True, genes=self.genes,
                                                     sex=sex_map, accept_cyp2d6_without_copy_number=True))
        t3 = time.perf_counter()
        #: seconds per stage of the last draw (haplotypes + BRCA, VCF write, PGx caller)
        self.last_timings = {"genotypes_s": t1 - t0, "vcf_s": t2 - t1, "pgx_caller_s": t3 - t2}
        fallback = _prior_fill(phen, gd.super_population, rng)
        phen = phen.drop(columns="_thiopurine_at_least")
        phen["ugt1a1_poor"] = phen["ugt1a1_poor"].astype(bool)
        phen["dpyd_activity_score"] = phen["dpyd_activity_score"].astype(float)
        phen["cyp2d6_activity_score"] = phen["cyp2d6_activity_score"].astype(float)
        phen["pgx_fallback"] = fallback.to_numpy()
        phen["germline_brca_lof"] = carrier
        phen["germline_brca_gene"] = np.where(carrier, self.brca["gene"].to_numpy()[which], None)
        phen["germline_brca_variant"] = np.where(
            carrier, (self.brca["gene"] + " " + self.brca["hgvs_c"]).to_numpy()[which], None)
        phen["population_code"] = gd.population
        phen["germline_origin"] = np.where(gd.person >= 0, "1kgp:" + self.panel.samples[np.maximum(gd.person, 0)],
                                           "recombinant")
        phen["sample_id"] = samples
        front = ["sample_id", "dpyd_activity_score", "ugt1a1_poor", "thiopurine_function", "cyp2d6_activity_score",
                 "pgx_fallback", "germline_brca_lof", "germline_brca_gene", "germline_brca_variant",
                 "population_code", "germline_origin"]
        phen = phen[front + [c for c in phen.columns if c not in front]]
        return GermlineDraw(population=gd.super_population, phenotypes=phen, sex=gd.sex,
                            sample_id=np.array(samples, dtype=object), vcf=vcf, description=self.description)


def panel_source_available() -> bool:
    """True when the shipped haplotype panel is installed."""
    from cohorts.germline_panel import PANEL_PATH

    return PANEL_PATH.is_file()

