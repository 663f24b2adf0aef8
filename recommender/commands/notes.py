"""``recommender notes extract``: clinical note -> proposed history fields, each with its evidence.

Examples
--------
recommender notes extract letter.txt
recommender notes extract discharge.pdf --patient patient.json --json
recommender notes extract bundle.json --accept all --patient patient.json -o updated_patient.json
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Read medications (with dose and frequency), smoking, alcohol, comorbidities, ECOG, prior treatment lines, "
        "prior toxicities (CTCAE), allergies and labs from a clinical note, offline (medspaCy with ConText: negated, "
        "uncertain, family-history and planned mentions are listed as excluded, never proposed). Identifiers are "
        "masked before anything is printed or stored. Nothing enters a patient record unless accepted."
    )
    sub = parser.add_subparsers(dest="notes_command", metavar="{extract}")
    ex = sub.add_parser("extract", help="propose history fields from a note (.txt, .pdf, FHIR .json)")
    ex.add_argument("note", metavar="NOTE", help="plain text, a PDF with a text layer, or a FHIR DocumentReference/"
                                                 "Bundle JSON")
    ex.add_argument("--patient", metavar="PATIENT", help="patient JSON / Phenopacket to compare with (conflicts shown)")
    ex.add_argument("--accept", metavar="IDS", help="apply these proposals to --patient: 'all' (new values only; "
                                                    "conflicts are never overwritten) or comma-separated ids")
    ex.add_argument("-o", "--output", metavar="FILE", help="write the updated patient JSON here (with --accept)")
    ex.add_argument("--json", action="store_true", help="print JSON (masked note text, values, proposals)")
    ex.add_argument("--show-excluded", action="store_true", help="also list excluded mentions and why")


def run(args: argparse.Namespace) -> int:
    from genomics.errors import UsageError
    from recommender.commands._output import print_json, write_atomic
    from recommender.notes import apply_decisions, extract_note, propose, read_note

    if args.notes_command != "extract":
        raise UsageError("choose a notes command", fix="recommender notes extract NOTE")
    if args.accept and not (args.patient and args.output):
        raise UsageError("--accept needs --patient and -o", field="--accept",
                         fix="give the record to update and where to write it")
    patient = None
    if args.patient:
        from recommender.schema import load_patient

        patient = load_patient(args.patient)
    results = []
    for note in read_note(args.note):
        extraction = extract_note(note.text)
        proposals = propose(patient, extraction)
        results.append((note, extraction, proposals))
    if args.accept:
        all_props = [p for _n, _e, props in results for p in props]
        wanted = None if args.accept == "all" else {x.strip() for x in args.accept.split(",") if x.strip()}
        decisions = {p.value.id: "accept" for p in all_props
                     if (wanted is None and p.status == "new") or (wanted is not None and p.value.id in wanted)}
        if wanted is not None and wanted - {p.value.id for p in all_props}:
            raise UsageError(f"unknown proposal id(s): {', '.join(sorted(wanted - decisions.keys()))}",
                             field="--accept", fix="use the ids printed by `recommender notes extract`")
        updated, changes = apply_decisions(patient, all_props, decisions)
        write_atomic(args.output, updated.model_dump_json(indent=2) + "\n")
    if args.json:
        print_json({"notes": [{"source": n.kind, "title": n.title, **e.model_dump(mode="json"),
                               "proposals": [p.model_dump(mode="json") for p in props]}
                              for n, e, props in results]})
        return 0
    for note, extraction, proposals in results:
        masked = ", ".join(f"{k} {v}" for k, v in extraction.identifiers_masked.items()) or "none found"
        print(f"{note.kind} note{f' ({note.title})' if note.title else ''}: identifiers masked: {masked}")
        for p in proposals:
            cur = f" (record: {p.current})" if p.status == "conflict" else ""
            print(f"  [{p.value.id}] {p.value.field:<16} {p.value.display:<45} {p.status}{cur}"
                  f"  conf {p.value.confidence:.2f}  \"{p.value.evidence}\"")
        if args.show_excluded:
            for v in extraction.excluded:
                print(f"  (excluded) {v.field:<16} {v.display:<45} {v.excluded_because}  \"{v.evidence}\"")
    if args.accept:
        print(f"{len(changes)} value(s) applied; updated record written to {args.output}")
    return 0
