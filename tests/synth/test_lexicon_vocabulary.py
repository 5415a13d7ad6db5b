"""The generator's member labels are ones the catalogue vocabulary reads back as the same member.

Otherwise a synthetic note would state a value kgqa cannot normalise however well the reader does,
and the evaluation would measure the vocabulary's gaps instead of extraction.
"""

import pytest

from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
from kgqa.synth.languages import LEXICONS
from kgqa.values.enums import match_member


@pytest.mark.parametrize("lang", sorted(LEXICONS))
def test_every_generated_member_label_reads_back_as_its_member(lang):
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    lexicon = LEXICONS[lang]
    wrong = []
    for concept_id, members in lexicon.labels.items():
        concept = catalogue.get(concept_id)
        for member_id, forms in members.items():
            for form in forms:
                hit = match_member(form, concept.members, lang)
                if hit is None or hit[0].id != member_id:
                    wrong.append((concept_id, form, member_id, hit and hit[0].id))
    assert not wrong
