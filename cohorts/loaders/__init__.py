"""Loaders that turn real cohorts (read from a path the user gives) into cohort tables.

Each loader returns a :class:`LoadedCohort` (tables + name, licence, provenance); call
:meth:`LoadedCohort.write` to store it as a cohort directory. Licences stay with the data: the
loaders read the user's copy and write only where the user asks; nothing is bundled.

========================  ==================================================================
loader                    source
========================  ==================================================================
:func:`load_deepsurv`     DeepSurv HDF5 splits (GBSG/Rotterdam, METABRIC, SUPPORT), as stored
:func:`load_metabric`     METABRIC from cBioPortal (clinical, treatments, mutations, OS + cause)
:func:`load_tcga_cdr`     TCGA Pan-Cancer Clinical Data Resource (xlsx)
:func:`load_summit`       SUMMIT neratinib basket trial, biliary tract cohort (cBioPortal files)
:func:`load_csv`          CSV/TSV tables in the cohort layout (``patients.csv``, ...)
:func:`load_phenopackets` a folder (or file list) of Phenopacket v2 / patient JSON files
========================  ==================================================================
"""

from cohorts.loaders._common import LoadedCohort
from cohorts.loaders.deepsurv import load_deepsurv
from cohorts.loaders.metabric import load_metabric
from cohorts.loaders.records import load_csv, load_phenopackets
from cohorts.loaders.summit import load_summit
from cohorts.loaders.tcga_cdr import load_tcga_cdr

__all__ = [
    "LOADERS",
    "LoadedCohort",
    "load_csv",
    "load_deepsurv",
    "load_metabric",
    "load_phenopackets",
    "load_summit",
    "load_tcga_cdr",
]

#: ``--from`` name of ``recommender cohort import`` -> loader.
LOADERS = {
    "deepsurv": load_deepsurv,
    "metabric": load_metabric,
    "tcga-cdr": load_tcga_cdr,
    "summit": load_summit,
    "csv": load_csv,
    "phenopackets": load_phenopackets,
}
