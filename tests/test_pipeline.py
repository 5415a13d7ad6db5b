"""Pipeline wiring: stages called in order, failures isolated per note, answers checked against notes."""

import datetime as dt

import rdflib

from kgqa.pipeline import Pipeline
from kgqa.types import Answer, Concept, Link, ModelInfo, Note, RunInfo, Value, ValueKind

CONCEPTS = [
    Concept(id="nihss", group="exam", kind="integer", questions={"en": ["NIHSS?"]}, target_class="http://x/N"),
    Concept(id="drug", group="meds", kind="drug", questions={"en": ["Drug?"]}, target_class="http://x/D"),
]
RUN = RunInfo(run_id="r", started_at=dt.datetime(2025, 1, 1), kgqa_version="0", model=ModelInfo("p", "s"), config_digest="d")


def _note(i, text):
    return Note(id=f"n{i}", text=text, lang="en")


class FakeReader:
    def __init__(self, fail_on=()):
        self.calls = []
        self.fail_on = set(fail_on)

    def read(self, notes, concepts):
        self.calls.append([n.id for n in notes])
        if any(n.id in self.fail_on for n in notes):
            raise RuntimeError("reader exploded")
        out = {}
        for n in notes:
            start = n.text.index("NIHSS ") + 6
            out[n.id] = [
                Answer.from_note(n, "nihss", start, start + 1, score=1.0, null_score=0.0, confidence=0.9),
                Answer.from_note(n, "drug", 0, 7, score=1.0, null_score=0.0, confidence=0.8),
            ]
        return out


def normalise(answer, concept, note):
    if note.id == "n_bad_value":
        raise ValueError("cannot normalise")
    if concept.kind is ValueKind.INTEGER:
        return Value(ValueKind.INTEGER, int(answer.text))
    return Value(ValueKind.DRUG, answer.text)


class FakeLinker:
    def link(self, text, concept, lang):
        return (Link("http://atc/B01AF01", "rivaroxaban", 0.9),) if concept.kind is ValueKind.DRUG else ()


class FakeBuilder:
    def note_graph(self, note, facts, run):
        if note.id == "n_bad_rdf":
            raise KeyError("no mapping")
        g = rdflib.Graph(identifier=rdflib.URIRef(f"http://g/{note.id}"))
        for f in facts:
            g.add((rdflib.URIRef(f"http://f/{note.id}/{f.concept_id}"), rdflib.RDF.value, rdflib.Literal(str(f.value.value))))
        return g


def _pipeline(reader, **kw):
    return Pipeline(catalogue=CONCEPTS, reader=reader, normalise=normalise, linker=FakeLinker(), builder=FakeBuilder(), **kw)


def test_facts_values_links_and_graphs():
    notes = [_note(1, "Xarelto NIHSS 8"), _note(2, "Aspirin NIHSS 3")]
    result = _pipeline(FakeReader()).process(notes, RUN)
    assert not result.errors
    facts = {(f.note_id, f.concept_id): f for r in result.results for f in r.facts}
    assert facts[("n1", "nihss")].value.value == 8 and facts[("n2", "nihss")].value.value == 3
    assert facts[("n1", "drug")].links[0].label == "rivaroxaban"
    assert facts[("n1", "nihss")].links == ()  # numbers are not linked
    assert all(len(r.graph) == 2 for r in result.results)


def test_failures_are_isolated_per_note_and_stage():
    notes = [
        _note(1, "Xarelto NIHSS 8"),
        Note(id="n_reader", text="Xarelto NIHSS 1", lang="en"),
        Note(id="n_bad_value", text="Xarelto NIHSS 2", lang="en"),
        Note(id="n_bad_rdf", text="Xarelto NIHSS 4", lang="en"),
        _note(5, "Aspirin NIHSS 5"),
    ]
    result = _pipeline(FakeReader(fail_on={"n_reader"}), read_per_note=False).process(notes, RUN)
    assert [r.note.id for r in result.results] == ["n1", "n5"]
    stages = {e.note_id: e.stage for e in result.errors}
    assert stages == {"n_reader": "qa", "n_bad_value": "values", "n_bad_rdf": "rdf"}
    assert "reader exploded" in next(e.reason for e in result.errors if e.note_id == "n_reader")


def test_read_per_note_asks_the_reader_one_note_at_a_time():
    reader = FakeReader()
    notes = [_note(i, f"Xarelto NIHSS {i}") for i in range(1, 4)]
    _pipeline(reader, read_per_note=True).process(notes, RUN)
    assert reader.calls == [["n1"], ["n2"], ["n3"]]
    reader = FakeReader()
    _pipeline(reader, read_per_note=False).process(notes, RUN)
    assert reader.calls == [["n1", "n2", "n3"]]


def test_answer_not_slicing_its_note_is_rejected():
    class ShiftedReader(FakeReader):
        def read(self, notes, concepts):
            n = notes[0]
            other = Note(id=n.id, text="zz" + n.text, lang="en")  # offsets from a different text
            return {n.id: [Answer.from_note(other, "nihss", 0, 3, score=0, null_score=0, confidence=0.5)]}

    result = _pipeline(ShiftedReader()).process([_note(1, "Xarelto NIHSS 8")], RUN)
    assert not result.results and result.errors[0].stage == "values"


def test_an_enum_value_must_end_as_one_of_its_members():
    from kgqa.catalogue import DEFAULT_CATALOGUE, load_catalogue
    from kgqa.pipeline import resolve_enum
    from kgqa.types import Link, Value, ValueKind, ValueStatus

    sex = load_catalogue(DEFAULT_CATALOGUE).get("sex")
    female = next(m for m in sex.members if m.id == "female")
    text = Value(kind=ValueKind.ENUM, value="ZRM")
    # no link, or a link to something that is no member: the span names none of the allowed values
    unresolved = resolve_enum(text, (), sex)
    assert unresolved.status is ValueStatus.UNPARSED and "'ZRM' is none of its members" in unresolved.reason
    other = Link(iri="https://example.org/ZRM", label="ZRM", score=0.9)
    assert resolve_enum(text, (other,), sex).status is ValueStatus.UNPARSED
    # the best link is a member: the linker resolved it
    linked = resolve_enum(Value(kind=ValueKind.ENUM, value="pacjentka"), (Link(iri=female.iri, label="female", score=0.8),), sex)
    assert linked.ok
    # matched by label in the values stage, or a member id: nothing to resolve
    by_label = Value(kind=ValueKind.ENUM, value="female", member_iri=female.iri)
    assert resolve_enum(by_label, (), sex) is by_label
    assert resolve_enum(Value(kind=ValueKind.ENUM, value="female"), (), sex).ok
