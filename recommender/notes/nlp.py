"""The clinical NLP pipeline: spaCy tokens, clinical sentences, medspaCy target rules and ConText.

medspaCy (Eyre et al., AMIA 2021) provides the target matcher (phrase and token-pattern rules, here generated from
the product's own vocabularies: drugs, regimens, comorbidities, CTCAE terms) and ConText (Harkema et al., J Biomed
Inform 2009) with its default English rules for negation ("no", "denies"), uncertainty ("possible", "rule out"),
history and hypothetical mentions, extended here with family members ("mother", "brother" ...), "?" and "query" as
clinicians write uncertainty, and "plan"/"will start" as hypothetical. Everything is rule based and offline: no
model is downloaded. The pipeline is built once per process (``nlp_pipeline()``).

medspaCy's own sentence splitter (PyRuSH) logs every token through loguru at DEBUG level: it is not used, and
its logger is disabled, so no note text ever reaches a log.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from genomics.errors import RecommenderError, UsageError
from recommender import vocab

__all__ = ["BRAND_NAMES", "TOXICITY_SYNONYMS", "nlp_pipeline"]

#: Brand names met in notes -> generic name (kept only when the generic is in the drug vocabulary).
BRAND_NAMES: dict[str, str] = {
    "xeloda": "capecitabine", "eloxatin": "oxaliplatin", "camptosar": "irinotecan", "avastin": "bevacizumab",
    "erbitux": "cetuximab", "vectibix": "panitumumab", "herceptin": "trastuzumab", "perjeta": "pertuzumab",
    "tagrisso": "osimertinib", "lynparza": "olaparib", "keytruda": "pembrolizumab", "opdivo": "nivolumab",
    "nolvadex": "tamoxifen", "femara": "letrozole", "taxol": "paclitaxel", "taxotere": "docetaxel",
    "abraxane": "paclitaxel", "gemzar": "gemcitabine", "alimta": "pemetrexed", "iressa": "gefitinib",
    "tarceva": "erlotinib", "nerlynx": "neratinib", "tafinlar": "dabrafenib", "mekinist": "trametinib",
    "prozac": "fluoxetine", "seroxat": "paroxetine", "paxil": "paroxetine", "cipramil": "citalopram",
    "celexa": "citalopram", "lexapro": "escitalopram", "zoloft": "sertraline", "wellbutrin": "bupropion",
    "plavix": "clopidogrel", "coumadin": "warfarin", "tegretol": "carbamazepine", "epilim": "valproic acid",
    "dilantin": "phenytoin", "zocor": "simvastatin", "lipitor": "atorvastatin", "crestor": "rosuvastatin",
    "losec": "omeprazole", "prilosec": "omeprazole", "nexium": "esomeprazole", "protonix": "pantoprazole",
    "zofran": "ondansetron", "tramal": "tramadol", "zydol": "tramadol", "codeine phosphate": "codeine",
    "diflucan": "fluconazole", "sporanox": "itraconazole", "biaxin": "clarithromycin", "klaricid": "clarithromycin",
    "rifadin": "rifampin", "amiodarone": "amiodarone", "cordarone": "amiodarone", "zyloprim": "allopurinol",
    "ziagen": "abacavir", "sustiva": "efavirenz", "glucophage": "metformin",
}

#: Spellings of toxicities met in notes -> CTCAE v5.0 term (recommender.vocab.CTCAE_TERMS).
TOXICITY_SYNONYMS: dict[str, str] = {
    "neutropenia": "Neutrophil count decreased", "low neutrophils": "Neutrophil count decreased",
    "neutropaenia": "Neutrophil count decreased",
    "febrile neutropenia": "Febrile neutropenia", "neutropenic sepsis": "Febrile neutropenia",
    "neutropenic fever": "Febrile neutropenia", "febrile neutropaenia": "Febrile neutropenia",
    "thrombocytopenia": "Platelet count decreased", "thrombocytopaenia": "Platelet count decreased",
    "low platelets": "Platelet count decreased",
    "anaemia": "Anemia", "anemia": "Anemia",
    "leucopenia": "White blood cell decreased", "leukopenia": "White blood cell decreased",
    "diarrhoea": "Diarrhea", "diarrhea": "Diarrhea",
    "nausea": "Nausea", "vomiting": "Vomiting", "emesis": "Vomiting",
    "mucositis": "Mucositis oral", "stomatitis": "Mucositis oral", "oral mucositis": "Mucositis oral",
    "colitis": "Colitis",
    "hand-foot syndrome": "Palmar-plantar erythrodysesthesia syndrome",
    "hand foot syndrome": "Palmar-plantar erythrodysesthesia syndrome",
    "palmar-plantar erythrodysesthesia": "Palmar-plantar erythrodysesthesia syndrome",
    "palmar plantar erythrodysaesthesia": "Palmar-plantar erythrodysesthesia syndrome",
    "ppe": "Palmar-plantar erythrodysesthesia syndrome", "hfs": "Palmar-plantar erythrodysesthesia syndrome",
    "acneiform rash": "Rash acneiform", "rash acneiform": "Rash acneiform",
    "maculopapular rash": "Rash maculo-papular",
    "fatigue": "Fatigue", "lethargy": "Fatigue",
    "peripheral neuropathy": "Peripheral sensory neuropathy", "sensory neuropathy": "Peripheral sensory neuropathy",
    "neuropathy": "Peripheral sensory neuropathy", "neurotoxicity": "Peripheral sensory neuropathy",
    "pneumonitis": "Pneumonitis",
    "acute kidney injury": "Acute kidney injury", "aki": "Acute kidney injury",
    "hyperbilirubinaemia": "Blood bilirubin increased", "hyperbilirubinemia": "Blood bilirubin increased",
    "transaminitis": "Alanine aminotransferase increased",
    "cardiotoxicity": "Ejection fraction decreased", "reduced ejection fraction": "Ejection fraction decreased",
    "tinnitus": "Tinnitus", "hearing loss": "Hearing impaired", "ototoxicity": "Hearing impaired",
    "hot flushes": "Hot flashes", "hot flashes": "Hot flashes", "arthralgia": "Arthralgia",
    "thromboembolism": "Thromboembolic event", "anorexia": "Anorexia",
}

_DRUG_SYNONYMS_EXTRA = {"xelox": "CAPOX", "capox": "CAPOX", "folfox": "FOLFOX", "mfolfox6": "FOLFOX",
                        "folfox6": "FOLFOX", "folfox4": "FOLFOX", "folfiri": "FOLFIRI", "folfirinox": "FOLFIRINOX",
                        "mfolfirinox": "FOLFIRINOX", "ac-t": "AC-T", "ec-t": "AC-T", "thp": "THP",
                        "carboplatin/paclitaxel": "carboplatin-paclitaxel",
                        "carboplatin and paclitaxel": "carboplatin-paclitaxel",
                        "carbo/taxol": "carboplatin-paclitaxel", "cisplatin/pemetrexed": "cisplatin-pemetrexed",
                        "gemcitabine/nab-paclitaxel": "gemcitabine-nab-paclitaxel",
                        "gemcitabine and nab-paclitaxel": "gemcitabine-nab-paclitaxel",
                        "dabrafenib/trametinib": "dabrafenib-trametinib",
                        "dabrafenib and trametinib": "dabrafenib-trametinib"}

#: Regimens whose name is also a drug name are matched as drugs and resolved later by context.
_REGIMEN_WORDS = {name.lower(): name for name in vocab.REGIMENS
                  if "(" not in name and name.lower() not in vocab.DRUGS and name not in ("observation", "7+3")}
_REGIMEN_WORDS.update(_DRUG_SYNONYMS_EXTRA)

_FAMILY_WORDS = ("mother", "father", "sister", "brother", "aunt", "uncle", "grandmother", "grandfather",
                 "cousin", "daughter", "son", "mum", "dad", "maternal", "paternal", "sibling", "parents",
                 "family history", "fhx", "fh")

_SENT_END = re.compile(r"[.!;]$")


def _split_sentences(doc: Any) -> Any:
    """Clinical sentence boundaries: new lines, and '.', '!' or ';' before a capital letter, digit or new line.

    A '?' starts an uncertain mention ("? neuropathy") far more often than it ends a question in notes, so it
    never ends a sentence here.
    """
    for i, token in enumerate(doc):
        if i == 0:
            token.is_sent_start = True
            continue
        prev = doc[i - 1]
        starts = False
        if "\n" in prev.text or "\n" in prev.whitespace_:
            starts = True
        elif _SENT_END.search(prev.text) and not re.fullmatch(r"\d+\.", prev.text):
            starts = token.text[:1].isupper() or token.text[:1].isdigit() or token.text[:1] in "-*•?"
        if token.is_space:
            starts = False
        token.is_sent_start = starts
    return doc


def _target_rules() -> list[Any]:
    from medspacy.ner import TargetRule

    rules: list[Any] = []
    seen: set[tuple[str, str]] = set()

    def add(literal: str, label: str, **kw: Any) -> None:
        key = (literal.lower(), label)
        if key in seen:
            return
        seen.add(key)
        rules.append(TargetRule(literal, label, **kw))
        if not kw and " " not in literal:
            # the tokenizer may cut the lower-case literal differently from the word as written ("t2dm" is
            # two tokens, "T2DM" one): also match the whole word as one token
            rules.append(TargetRule(literal, label, pattern=[{"LOWER": literal.lower()}]))

    for name in vocab.DRUGS:
        add(name, "DRUG")
    for syn in ("5-fu", "5-fluorouracil", "5fu", "6-mp", "6-mercaptopurine", "folinic acid", "rifampicin",
                "ciclosporin", "nab-paclitaxel"):
        add(syn, "DRUG")
    for brand, generic in BRAND_NAMES.items():
        if generic in vocab.DRUGS:
            add(brand, "DRUG")
    for word in _REGIMEN_WORDS:
        add(word, "REGIMEN")
    for term, syns in vocab.COMORBIDITIES.items():
        for syn in syns:
            if len(syn) <= 3 and syn.isalpha():
                add(syn, "COMORBIDITY", pattern=[{"TEXT": syn.upper()}])  # abbreviations: upper case only
            else:
                add(syn, "COMORBIDITY")
    for syn in TOXICITY_SYNONYMS:
        if len(syn) <= 3:
            add(syn, "TOXICITY", pattern=[{"TEXT": syn.upper()}])
        else:
            add(syn, "TOXICITY")
    for term in vocab.CTCAE_TERMS:
        add(term, "TOXICITY")
    for word in ("smoker", "smoking", "smokes", "smoked", "smoke", "tobacco", "cigarettes", "cigarette",
                 "ex-smoker", "non-smoker", "nonsmoker", "never smoker", "pack-years", "pack years", "pack-year",
                 "cigars", "vapes"):
        add(word, "SMOKING")
    for word in ("alcohol", "etoh", "drinks", "drinker", "drinking", "teetotal", "teetotaller", "wine", "beer",
                 "spirits", "units/week", "units per week", "alcohol excess"):
        add(word, "ALCOHOL")
    return rules


def _context_rules() -> list[Any]:
    from medspacy.context import ConTextRule

    rules = [ConTextRule(w, "FAMILY", direction="BIDIRECTIONAL") for w in _FAMILY_WORDS]
    rules += [
        ConTextRule("?", "POSSIBLE_EXISTENCE", direction="FORWARD", max_scope=3),
        ConTextRule("query", "POSSIBLE_EXISTENCE", direction="FORWARD", max_scope=4),
        ConTextRule("suspected", "POSSIBLE_EXISTENCE", direction="FORWARD"),
        ConTextRule("probable", "POSSIBLE_EXISTENCE", direction="FORWARD"),
        ConTextRule("questionable", "POSSIBLE_EXISTENCE", direction="FORWARD"),
        ConTextRule("cannot exclude", "POSSIBLE_EXISTENCE", direction="FORWARD"),
        ConTextRule("plan to", "HYPOTHETICAL", direction="FORWARD"),
        ConTextRule("planned", "HYPOTHETICAL", direction="BIDIRECTIONAL"),
        ConTextRule("will start", "HYPOTHETICAL", direction="FORWARD"),
        ConTextRule("to start", "HYPOTHETICAL", direction="FORWARD"),
        ConTextRule("consider", "HYPOTHETICAL", direction="FORWARD"),
        ConTextRule("discussed", "HYPOTHETICAL", direction="FORWARD"),
        ConTextRule("denies", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("nil", "NEGATED_EXISTENCE", direction="FORWARD", max_scope=4),
        ConTextRule("negative for", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("never had", "NEGATED_EXISTENCE", direction="FORWARD"),
    ]
    return rules


@functools.lru_cache(maxsize=1)
def nlp_pipeline() -> Any:
    """The spaCy ``Language`` with clinical sentences, medspaCy targets and ConText (built once per process)."""
    try:
        from loguru import logger

        logger.disable("PyRuSH")  # its DEBUG records carry note text
    except ImportError:  # pragma: no cover
        pass
    try:
        import spacy
        import medspacy  # noqa: F401 - registers the medspaCy factories
        from spacy.language import Language
    except ImportError as err:
        raise UsageError("clinical note extraction needs spaCy and medspaCy", field="notes",
                         fix="run `make setup` (it installs medspaCy without its obsolete spaCy pin)") from err
    try:
        if "clinical_sentences" not in Language.factories:
            Language.component("clinical_sentences", func=_split_sentences)
        nlp = spacy.blank("en")
        nlp.add_pipe("clinical_sentences")
        matcher = nlp.add_pipe("medspacy_target_matcher")
        matcher.add(_target_rules())
        context = nlp.add_pipe("medspacy_context")
        context.add(_context_rules())
    except Exception as err:  # noqa: BLE001 - a broken NLP install must read as a product error
        raise RecommenderError(f"the clinical NLP pipeline could not be built ({type(err).__name__}: {err})",
                               fix="reinstall with `make setup`") from err
    return nlp


def regimen_for(word: str) -> str | None:
    """The regimen name for a regimen word matched in a note (``"XELOX"`` -> ``"CAPOX"``)."""
    return _REGIMEN_WORDS.get(word.lower())
