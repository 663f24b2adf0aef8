"""Shared helpers of the scoring tests: fixture paths and a deterministic stub model bundle."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genomics.errors import ModelError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scoring"
COAD = FIXTURES / "patient_coad.json"
BREAST = FIXTURES / "patient_breast.json"
OUTSIDE_PM = FIXTURES / "outside_calls_pm.tsv"
TUMOUR_MAF = FIXTURES / "tumour_kras.maf"
DEMO_VCF = Path(__file__).resolve().parents[2] / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


@dataclass
class _Pred:
    regimen: str
    drugs: tuple[str, ...]
    response: dict | None
    survival: dict
    toxicity: dict
    ood: dict
    propensity: float | None = None
    not_modelled: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"regimen": self.regimen, "drugs": list(self.drugs), "response": self.response,
                "survival": self.survival, "toxicity": self.toxicity, "ood": self.ood,
                "propensity": self.propensity, "not_modelled": self.not_modelled}


class StubBundle:
    """Duck-typed ModelBundle: fixed response probability per regimen (``p``), no toxicity by default."""

    bundle_id = "stub-bundle-1"

    def __init__(self, p: dict[str, float], *, fail: bool = False, ood: set[str] = frozenset(),
                 tox: dict[str, float] | None = None) -> None:
        self.p = p
        self.fail = fail
        self.ood = set(ood)
        self.tox = tox or {}
        self.metadata = {"_manifest_sha256": "0" * 64}
        self.calls = 0

    def provenance(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle_id, "trained_on": "stub (tests)", "feature_schema_hash": "f" * 64,
                "manifest_sha256": "0" * 64}

    def predict_options(self, patient, options, *, pgx=None, biomarkers=None, explain=True):
        self.calls += 1
        if self.fail:
            raise ModelError("stub bundle refuses", field="features", fix="none")
        out = []
        for o in options:
            p = self.p.get(o.regimen, 0.3)
            times = [0.0, 180.0, 365.0, 730.0]
            surv = [1.0, 0.8, 0.5, 0.2]
            tox = {term: {"p": v, "low": v / 2, "high": min(1.0, v * 1.5), "drivers": []}
                   for term, v in self.tox.items()}
            out.append(_Pred(regimen=o.regimen, drugs=tuple(o.drugs),
                             response={"p": p, "low": max(0.0, p - 0.1), "high": min(1.0, p + 0.1),
                                       "drivers": [{"phrase": f"stub driver for {o.regimen}: +1 point"}]},
                             survival={"pfs": {"median_days": 365.0, "low": 300.0, "high": 420.0,
                                               "cox_median_days": 350.0, "times": times, "survival": surv,
                                               "drivers": []}},
                             toxicity=tox,
                             ood={"flag": o.regimen in self.ood,
                                  "reasons": [f"{o.regimen} never seen"] if o.regimen in self.ood else []}))
        return out
