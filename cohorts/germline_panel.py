"""A compact haplotype panel of real people (1000 Genomes) at the pharmacogene defining positions.

The simulator's germline genotypes are real haplotypes. This module turns the 1000 Genomes files
(``population/1kgp_GRCh38/<GENE>.vcf.gz``, 3,202 people, phased; ``1kgp_GRCh37/DPYD.vcf.gz``, 2,504 of
them; ``1kgp_sample_populations.tsv``) into a small panel that ships with the package
(``cohorts/data/haplotype_panel/``), so the simulator works offline and at any size:

* **sites**: every record of the gene files at a PharmCAT defining position of a callable gene (what the
  PGx caller reads), plus ``anchors_per_gene`` common variants per gene inside the gene's definition
  region, or within 5 kb of a one-position gene (real nearby variation; they also keep every gene
  "covered" in a written VCF, so that the
  caller may fill absent defining positions with reference);
* **DPYD**: the GRCh37 file, at the defining variants listed in PyPGx's variant table with both
  coordinates (:data:`DPYD_MAP_PATH`, derived from PyPGx ``variant-table.csv``, MIT). A record is taken
  only when its GRCh37 position, REF and ALT equal the table's; it is written at the table's GRCh38
  position. Where the reference base differs between the builds (rs1801265, DPYD*9A: GRCh37 REF G,
  GRCh38 REF A) the GRCh37 record's ALT must be the GRCh38 REF and the allele indices are swapped; from
  an unsplit multi-allelic record only the defining ALT is kept (the other ALT is written as REF). The 698 people without phase-3 data have no DPYD haplotypes in the panel (code ``255``);
* **sex** from chrX ploidy in the G6PD file: a person whose G6PD genotypes are haploid is male (his
  second chrX haplotype is ``255``);
* **haplotypes**: ``uint8`` array ``(n_sites, n_people, 2)``, allele index 0/1 (all records are
  biallelic; multi-allelic sites are split records in the source), ``255`` = no such haplotype.

IFNL3 is left out: its only defining position (rs12979860) lies outside the span of the IFNL3 file, so
the panel cannot tell reference from not-typed there.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cohorts.errors import CohortError

__all__ = [
    "BLOCK_DISTANCE",
    "DATA_DIR",
    "DPYD_MAP_PATH",
    "MISSING_HAP",
    "PANEL_GENES",
    "PANEL_PATH",
    "SUPER_POPULATIONS",
    "HaplotypePanel",
    "build_haplotype_panel",
    "dpyd_map_from_pypgx",
    "gene_blocks",
    "load_dpyd_map",
    "load_panel",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
PANEL_PATH = DATA_DIR / "haplotype_panel" / "1kgp_pgx_haplotypes.npz"
DPYD_MAP_PATH = DATA_DIR / "dpyd_grch37_to_grch38.tsv"
#: Code of an absent haplotype (second chrX of a male; DPYD of a person without phase-3 data).
MISSING_HAP = 255
#: Genes in the panel (callable genes except IFNL3, see the module docstring).
PANEL_GENES = ("ABCG2", "CACNA1S", "CFTR", "CYP2B6", "CYP2C19", "CYP2C9", "CYP2D6", "CYP3A4", "CYP3A5",
               "CYP4F2", "DPYD", "G6PD", "NAT2", "NUDT15", "RYR1", "SLCO1B1", "TPMT", "UGT1A1", "VKORC1")
#: Genes closer than this (bp, same chromosome) form one block inherited together (CYP2C19+CYP2C9,
#: CYP3A4+CYP3A5); blocks further apart assort independently in the simulator.
BLOCK_DISTANCE = 1_000_000
#: 1000 Genomes super-populations of the population codes.
SUPER_POPULATIONS: dict[str, str] = {
    **{p: "AFR" for p in ("YRI", "LWK", "GWD", "MSL", "ESN", "ASW", "ACB")},
    **{p: "AMR" for p in ("MXL", "PUR", "CLM", "PEL")},
    **{p: "EAS" for p in ("CHB", "JPT", "CHS", "CDX", "KHV")},
    **{p: "EUR" for p in ("CEU", "TSI", "FIN", "GBR", "IBS")},
    **{p: "SAS" for p in ("GIH", "PJL", "BEB", "STU", "ITU")},
}
_CONTIG_ORDER = {f"chr{c}": i for i, c in enumerate([*map(str, range(1, 23)), "X", "Y"])}
_SITE_COLUMNS = ["gene", "block", "chrom", "pos", "id", "ref", "alt", "kind", "source"]


@dataclass
class HaplotypePanel:
    """Real phased haplotypes of the panel people at the panel sites.

    Attributes
    ----------
    samples, population, super_population, sex : np.ndarray
        One entry per person (1000 Genomes sample ID, population code, super-population or ``""``
        when the source gives two codes, ``"male"``/``"female"`` from chrX ploidy).
    dpyd_available : np.ndarray
        ``True`` for people with DPYD data (the 2,504 of phase 3).
    sites : pd.DataFrame
        ``gene, block, chrom, pos, id, ref, alt, kind (defining|anchor), source``, sorted by contig
        and position.
    haplotypes : np.ndarray
        ``uint8 (n_sites, n_people, 2)``; :data:`MISSING_HAP` where a person has no such haplotype.
    provenance : dict
        Where the panel came from (source files and their SHA-256, build options).
    """

    samples: np.ndarray
    population: np.ndarray
    super_population: np.ndarray
    sex: np.ndarray
    dpyd_available: np.ndarray
    sites: pd.DataFrame
    haplotypes: np.ndarray
    provenance: dict = field(default_factory=dict)

    @property
    def n_people(self) -> int:
        return len(self.samples)

    @property
    def blocks(self) -> list[str]:
        """Block names in site order of first appearance."""
        return list(dict.fromkeys(self.sites["block"]))

    def block_rows(self, block: str) -> np.ndarray:
        return np.flatnonzero(self.sites["block"].to_numpy() == block)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write as a compressed ``.npz`` (atomically)."""
        import json

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez_compressed(
            buf, samples=self.samples.astype(str), population=self.population.astype(str),
            super_population=self.super_population.astype(str), sex=self.sex.astype(str),
            dpyd_available=self.dpyd_available.astype(bool), haplotypes=self.haplotypes.astype(np.uint8),
            **{f"site_{c}": self.sites[c].to_numpy().astype(np.int64 if c == "pos" else str) for c in _SITE_COLUMNS},
            provenance=np.array(json.dumps(self.provenance, sort_keys=True)),
        )
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.getvalue())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def load_panel(path: str | os.PathLike[str] | None = None) -> HaplotypePanel:
    """Load a panel ``.npz`` (default: the shipped :data:`PANEL_PATH`)."""
    import json

    path = Path(path) if path is not None else PANEL_PATH
    if not path.is_file():
        raise CohortError("haplotype panel not found", file=path,
                          fix="reinstall the package, or build one with cohorts.germline_panel.build_haplotype_panel")
    try:
        z = np.load(path, allow_pickle=False)
        sites = pd.DataFrame({c: z[f"site_{c}"] for c in _SITE_COLUMNS})
        sites["pos"] = sites["pos"].astype(np.int64)
        panel = HaplotypePanel(
            samples=z["samples"].astype(object), population=z["population"].astype(object),
            super_population=z["super_population"].astype(object), sex=z["sex"].astype(object),
            dpyd_available=z["dpyd_available"].astype(bool), sites=sites, haplotypes=z["haplotypes"],
            provenance=json.loads(str(z["provenance"])),
        )
    except (OSError, KeyError, ValueError) as err:
        raise CohortError(f"not a haplotype panel: {err}", file=path,
                          fix="give a panel written by HaplotypePanel.save (a .npz file)") from None
    if panel.haplotypes.shape != (len(sites), len(panel.samples), 2):
        raise CohortError("haplotype array does not match the sites and samples", file=path,
                          fix="rebuild the panel")
    return panel


# ------------------------------------------------------------------------------------- DPYD map
def dpyd_map_from_pypgx(variant_table: str | os.PathLike[str]) -> pd.DataFrame:
    """DPYD rows of PyPGx's ``variant-table.csv``: both builds' positions and alleles."""
    df = pd.read_csv(variant_table, dtype=str)
    d = df[df["Gene"] == "DPYD"].copy()
    out = pd.DataFrame({
        "rsid": d["rsID"].to_numpy(), "chrom_grch37": d["Chromosome"].to_numpy(),
        "pos_grch37": d["GRCh37Position"].astype(int).to_numpy(), "ref_grch37": d["GRCh37Allele"].to_numpy(),
        "chrom_grch38": "chr" + d["Chromosome"].to_numpy(), "pos_grch38": d["GRCh38Position"].astype(int).to_numpy(),
        "ref_grch38": d["GRCh38Allele"].to_numpy(), "alt": d["Variant"].to_numpy(), "impact": d["Impact"].to_numpy(),
    })
    return out.sort_values(["pos_grch38", "alt"], kind="stable").reset_index(drop=True)


def load_dpyd_map(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The shipped DPYD GRCh37 -> GRCh38 defining-variant map (see ``cohorts/data/PROVENANCE.md``)."""
    return pd.read_csv(path or DPYD_MAP_PATH, sep="\t", comment="#", dtype={"chrom_grch37": str})


# ------------------------------------------------------------------------------------- building
def gene_blocks(regions: dict[str, tuple[str, int, int]], distance: int = BLOCK_DISTANCE) -> dict[str, str]:
    """Gene -> block name: genes on one chromosome closer than ``distance`` share a block."""
    genes = sorted(regions, key=lambda g: (_CONTIG_ORDER.get(regions[g][0], 99), regions[g][1]))
    out: dict[str, str] = {}
    current: list[str] = []
    for g in genes:
        if current:
            c0, _, e0 = regions[current[-1]]
            c, s, _ = regions[g]
            if c == c0 and s - e0 < distance:
                current.append(g)
                continue
            for x in current:
                out[x] = "+".join(current)
        current = [g]
    for x in current:
        out[x] = "+".join(current)
    return out


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_populations(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip():
            sample, pop = line.split("\t")[:2]
            out[sample] = pop.strip()
    return out


def _haps(gt: np.ndarray) -> np.ndarray:
    """VcfReader GT codes (n, 2) -> uint8 haplotypes (missing / haploid pad -> 255)."""
    return np.where(gt >= 0, gt, MISSING_HAP).astype(np.uint8)


def build_haplotype_panel(population_dir: str | os.PathLike[str], *, anchors_per_gene: int = 4,
                          dpyd_map: pd.DataFrame | None = None) -> HaplotypePanel:
    """Build the panel from the 1000 Genomes folder (``1kgp_GRCh38/``, ``1kgp_GRCh37/``, populations TSV).

    Parameters
    ----------
    population_dir
        The ``population`` folder of the shared data (see its README).
    anchors_per_gene
        Common non-defining variants kept per gene (highest minor-allele frequency in the panel,
        inside the gene's definition region).
    dpyd_map
        DPYD defining-variant map (default: the shipped :data:`DPYD_MAP_PATH`).
    """
    from genomics.errors import DegradedResultWarning
    from genomics.pgx.caller import _wanted, compiled_gene
    from genomics.vcf import VcfReader

    root = Path(population_dir)
    g38 = root / "1kgp_GRCh38"
    pops_tsv = root / "1kgp_sample_populations.tsv"
    dpyd37 = root / "1kgp_GRCh37" / "DPYD.vcf.gz"
    for p in (g38, pops_tsv, dpyd37):
        if not p.exists():
            raise CohortError("1000 Genomes file or folder not found", file=p,
                              fix="give the 'population' folder of the shared data (1kgp_GRCh38/, 1kgp_GRCh37/, "
                                  "1kgp_sample_populations.tsv)")
    pops = _read_populations(pops_tsv)
    dmap = dpyd_map if dpyd_map is not None else load_dpyd_map()
    regions = {g: compiled_gene(g).definition.region for g in PANEL_GENES}
    blocks = gene_blocks(regions)
    site_rows: list[dict] = []
    hap_rows: list[np.ndarray] = []
    samples: list[str] | None = None
    sources: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        for gene in PANEL_GENES:
            if gene == "DPYD":
                continue
            path = g38 / f"{gene}.vcf.gz"
            reader = VcfReader(path, build="GRCh38")
            if samples is None:
                samples = list(reader.samples)
            elif list(reader.samples) != samples:
                raise CohortError("gene files list different samples", file=path, fix="use the unmodified files")
            sources[f"1kgp_GRCh38/{gene}.vcf.gz"] = _sha(path)
            cg = compiled_gene(gene)
            wanted = _wanted(cg)
            positions = {p for _, p in wanted}
            rsids = {lo.position: lo.rsid for lo in cg.loci}
            hits = reader.fetch_positions(wanted)
            for key in wanted:
                for rec in hits.get(key) or ():
                    if len(rec.alts) != 1:
                        continue
                    site_rows.append({"gene": gene, "block": blocks[gene], "chrom": rec.chrom, "pos": rec.pos,
                                      "id": rsids.get(rec.pos) or ".", "ref": rec.ref, "alt": rec.alts[0],
                                      "kind": "defining", "source": "1kgp_GRCh38"})
                    hap_rows.append(_haps(rec.gt))
            if anchors_per_gene:
                chrom, start, end = cg.definition.region
                if end - start < 10_000:  # one-position genes (ABCG2, VKORC1): look 5 kb either side
                    start, end = max(1, start - 5_000), end + 5_000
                cand = []
                for rec in reader.fetch(f"{chrom}:{start}-{end}"):
                    if rec.pos in positions or len(rec.alts) != 1 or len(rec.ref) != 1 or len(rec.alts[0]) != 1:
                        continue
                    af = rec.variant.INFO.get("AF")
                    af = float(af[0] if isinstance(af, tuple) else af) if af is not None else 0.0
                    cand.append((-min(af, 1 - af), rec.pos, rec))
                cand.sort(key=lambda t: (t[0], t[1]))
                for _, _, rec in cand[:anchors_per_gene]:
                    site_rows.append({"gene": gene, "block": blocks[gene], "chrom": rec.chrom, "pos": rec.pos,
                                      "id": ".", "ref": rec.ref, "alt": rec.alts[0], "kind": "anchor",
                                      "source": "1kgp_GRCh38"})
                    hap_rows.append(_haps(rec.gt))
            reader.close()
        assert samples is not None
        # sex from chrX ploidy (G6PD file): haploid genotypes = male
        g6 = [h for s, h in zip(site_rows, hap_rows) if s["gene"] == "G6PD"]
        haploid = np.stack([h[:, 1] == MISSING_HAP for h in g6]).any(axis=0)
        sex = np.where(haploid, "male", "female")
        # DPYD from GRCh37, mapped to GRCh38 by the PyPGx table
        r37 = VcfReader(dpyd37, build="GRCh37")
        sources["1kgp_GRCh37/DPYD.vcf.gz"] = _sha(dpyd37)
        col = {s: i for i, s in enumerate(r37.samples)}
        dp_idx = np.array([col.get(s, -1) for s in samples])
        dcg = compiled_gene("DPYD")
        hits = r37.fetch_positions([(str(c), int(p)) for c, p in zip(dmap["chrom_grch37"], dmap["pos_grch37"])])
        for row in dmap.itertuples(index=False):
            for rec in hits.get((str(row.chrom_grch37), int(row.pos_grch37))) or ():
                if row.pos_grch38 not in dcg.position_index or rec.ref != row.ref_grch37:
                    continue
                gt = rec.gt
                if row.alt in rec.alts and len(rec.alts) > 1 and row.ref_grch37 == row.ref_grch38:
                    # unsplit multi-allelic phase-3 record (rs114096998 G>A,T): keep the defining ALT; the
                    # other ALT is not a DPYD defining allele and is written as reference
                    k = rec.alts.index(row.alt) + 1
                    gt = np.where(gt >= 0, (gt == k).astype(gt.dtype), gt)
                    flip = False
                elif rec.alts == (row.alt,) and row.ref_grch37 == row.ref_grch38:
                    flip = False
                elif rec.alts == (row.ref_grch38,) and row.alt == row.ref_grch37 != row.ref_grch38:
                    # the reference base differs between builds (rs1801265, DPYD*9A): GRCh37 REF is the
                    # GRCh38 ALT, so the allele indices are swapped
                    flip = True
                else:
                    continue
                if flip:
                    gt = np.where(gt >= 0, 1 - gt, gt)
                h = np.full((len(samples), 2), MISSING_HAP, dtype=np.uint8)
                h[dp_idx >= 0] = _haps(gt)[dp_idx[dp_idx >= 0]]
                site_rows.append({"gene": "DPYD", "block": blocks["DPYD"], "chrom": row.chrom_grch38,
                                  "pos": int(row.pos_grch38), "id": row.rsid, "ref": row.ref_grch38, "alt": row.alt,
                                  "kind": "defining", "source": "1kgp_GRCh37 mapped to GRCh38 (PyPGx variant table)"})
                hap_rows.append(h)
        r37.close()
    sites = pd.DataFrame(site_rows, columns=_SITE_COLUMNS)
    order = sorted(range(len(sites)), key=lambda i: (_CONTIG_ORDER.get(sites["chrom"][i], 99), sites["pos"][i],
                                                     sites["ref"][i], sites["alt"][i]))
    sites = sites.iloc[order].reset_index(drop=True)
    haplotypes = np.stack([hap_rows[i] for i in order]).astype(np.uint8)
    population = np.array([pops.get(s, "") for s in samples], dtype=object)
    superpop = np.array([SUPER_POPULATIONS.get(p, "") for p in population], dtype=object)
    provenance = {
        "source": "1000 Genomes Project (NYGC 30x phased, GRCh38; phase 3 GRCh37 for DPYD) via sbslee/pypgx-bundle",
        "source_commit": "919279ac733d4391e3a7c0f96ee0ed5e74c3297f",
        "populations": "CAST-genomics/haptools example-files/1000genomes_sampleinfo.tsv @ bb78f6c7",
        "licence": "1000 Genomes data: open access, no restrictions; pypgx-bundle and haptools: MIT",
        "files_sha256": {**sources, "1kgp_sample_populations.tsv": _sha(pops_tsv)},
        "dpyd_map": "cohorts/data/dpyd_grch37_to_grch38.tsv (from PyPGx variant-table.csv, MIT)",
        "anchors_per_gene": anchors_per_gene,
        "sites": len(sites), "people": len(samples),
    }
    return HaplotypePanel(samples=np.array(samples, dtype=object), population=population, super_population=superpop,
                          sex=sex.astype(object), dpyd_available=dp_idx >= 0, sites=sites, haplotypes=haplotypes,
                          provenance=provenance)


def main(argv: list[str] | None = None) -> int:
    """``python -m cohorts.germline_panel POPULATION_DIR [-o PANEL.npz]``: (re)build the shipped panel."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("population_dir")
    ap.add_argument("-o", "--output", default=str(PANEL_PATH))
    ap.add_argument("--anchors-per-gene", type=int, default=4)
    ap.add_argument("--pypgx-variant-table", help="regenerate the DPYD map from PyPGx variant-table.csv first")
    a = ap.parse_args(argv)
    if a.pypgx_variant_table:
        m = dpyd_map_from_pypgx(a.pypgx_variant_table)
        header = ("# DPYD defining variants with GRCh37 and GRCh38 positions; derived from PyPGx "
                  "api/data/variant-table.csv (sbslee/pypgx, MIT), see PROVENANCE.md\n")
        DPYD_MAP_PATH.write_text(header + m.to_csv(sep="\t", index=False))
    panel = build_haplotype_panel(a.population_dir, anchors_per_gene=a.anchors_per_gene)
    out = panel.save(a.output)
    print(f"wrote {out}: {panel.n_people} people, {len(panel.sites)} sites, {out.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
