"""ATC code → RES-Q PLUS prescription category (the suffix of the catalogue's ``discharge_*`` /
``before_onset_*`` concepts), so a linked drug names the registry variable it answers.

RES-Q records anticoagulants and antiplatelets by substance (apixaban, warfarin, clopidogrel …), the
other stroke-relevant groups by class. Pure lookup by longest ATC prefix; no I/O.
"""

from __future__ import annotations

#: ATC prefix → category, longest prefix wins. Substances RES-Q names come before their groups.
CATEGORIES: dict[str, str] = {
    "C10": "other",  # non-statin lipid lowering (ezetimibe, PCSK9 antibodies): RES-Q has no variable for it
    "C10AA": "statin",
    "C10BA": "statin",  # statin combinations (simvastatin + ezetimibe)
    "C02": "antihypertensives", "C03": "antihypertensives", "C07": "antihypertensives",
    "C08": "antihypertensives", "C09": "antihypertensives",
    "A10": "antidiabetics",
    "B01AA03": "warfarin", "B01AA": "other_anticoagulant",
    "B01AB": "heparin", "B01AE07": "dabigatran", "B01AE": "other_anticoagulant",
    "B01AF01": "rivaroxaban", "B01AF02": "apixaban", "B01AF03": "edoxaban", "B01AF": "other_anticoagulant",
    "B01AX05": "other_anticoagulant",
    "B01AC06": "asa", "B01AC04": "clopidogrel", "B01AC05": "ticlopidine", "B01AC07": "dipyridamole",
    "B01AC22": "prasugrel", "B01AC23": "cilostazol", "B01AC24": "ticagrelor", "B01AC": "other_antiplatelet",
}
ANTICOAGULANTS = frozenset({"warfarin", "heparin", "dabigatran", "rivaroxaban", "apixaban", "edoxaban", "other_anticoagulant"})
ANTIPLATELETS = frozenset({"asa", "clopidogrel", "ticlopidine", "dipyridamole", "prasugrel", "cilostazol", "ticagrelor",
                           "other_antiplatelet"})


def prescription_category(term_id: str) -> str:
    """The RES-Q category of a drug term id ("ATC:C10AA05" → "statin"); "other" for anything else."""
    code = term_id.partition(":")[2] if ":" in term_id else term_id
    for n in range(len(code), 0, -1):
        cat = CATEGORIES.get(code[:n])
        if cat is not None:
            return cat
    return "other"


def prescription_concepts(term_id: str, prefix: str = "discharge_") -> tuple[str, ...]:
    """Catalogue concept ids a prescription of the drug answers ("ATC:B01AF02" → discharge_apixaban,
    discharge_any_anticoagulant)."""
    cat = prescription_category(term_id)
    out = [prefix + cat]
    if cat in ANTICOAGULANTS:
        out.append(prefix + "any_anticoagulant")
    elif cat in ANTIPLATELETS:
        out.append(prefix + "any_antiplatelet")
    return tuple(out)
