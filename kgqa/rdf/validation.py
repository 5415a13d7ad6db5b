"""SHACL validation of kgqa's graphs: the RES-Q PLUS shapes and kgqa's own, over the union graph.

pyshacl runs once per shape set, so every finding says which set it broke. Results of the
RES-Q ``ClinicalCase`` constraints that demand a part of some class (``sh:qualifiedMinCount``
on ``scdm:hasPart``, e.g. "at least one StrokeType") are not violations of kgqa's output: kgqa
never invents a fact a note does not state. They are reported as *incomplete cases* instead.
Blank nodes, which kgqa never writes, are reported as violations too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, SH, BNode, Dataset, Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kgqa import PROJECT_ROOT
from kgqa.errors import ConfigError
from kgqa.rdf.config import RdfConfig
from kgqa.rdf.vocab import BIND_PREFIXES, KGQA, RESQ, SCDM

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShapeSet:
    name: str
    path: Path
    graph: Graph


@dataclass(frozen=True)
class Finding:
    """One SHACL result, rendered with prefixes."""

    shapes: str
    severity: str
    focus: str
    path: str
    value: str
    message: str
    component: str

    def render(self) -> str:
        parts = [f"[{self.shapes}] {self.severity}: {self.focus}"]
        if self.path:
            parts.append(f"  path: {self.path}")
        if self.value:
            parts.append(f"  value: {self.value}")
        parts.append(f"  {self.message} ({self.component})")
        return "\n".join(parts)


@dataclass(frozen=True)
class IncompleteCase:
    """A clinical case lacking facts the shapes make mandatory (none stated in its notes)."""

    case: str
    missing: tuple[str, ...]
    #: ids of the notes about the case (when written), so a reviewer knows which notes to read
    notes: tuple[str, ...] = ()

    def render(self) -> str:
        where = f" (notes: {', '.join(self.notes)})" if self.notes else ""
        return f"{self.case}: no {', no '.join(self.missing)} stated{where}"


@dataclass(frozen=True)
class ValidationReport:
    violations: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    incomplete: tuple[IncompleteCase, ...]
    shape_sets: tuple[str, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)
    triples: int = 0

    @property
    def conforms(self) -> bool:
        """No violations; incomplete cases are reported, not failed (kgqa never invents facts)."""
        return not self.violations

    @property
    def resq_checked(self) -> bool:
        return "resq" in self.shape_sets

    def verdict(self) -> str:
        """One line that says what was checked: never "conforms" alone when the RES-Q PLUS shapes were absent."""
        checked = " and ".join(SHAPE_SET_NAMES.get(s, s) for s in self.shape_sets) or "no shapes"
        verdict = f"{'conforms' if self.conforms else 'does NOT conform'} to {checked}"
        if not self.resq_checked:
            verdict += f"; NOT checked against the RES-Q PLUS shapes ({RESQ_SHAPES_HINT})"
        return verdict

    def render(self, limit: int = 50) -> str:
        lines = [
            f"checked {self.triples} triples against: {', '.join(self.shape_sets) or 'no shapes'}",
        ]
        lines += [f"skipped: {s}" for s in self.skipped]
        if self.violations:
            lines.append(f"{len(self.violations)} violation(s):")
            lines += [f.render() for f in self.violations[:limit]]
            if len(self.violations) > limit:
                lines.append(f"… and {len(self.violations) - limit} more")
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines += [f.render() for f in self.warnings[:limit]]
        if self.incomplete:
            lines.append(f"{len(self.incomplete)} incomplete case(s) (mandatory facts not stated in their notes):")
            lines += ["  " + c.render() for c in self.incomplete[:limit]]
        lines.append(self.verdict())
        return "\n".join(lines)


# ------------------------------------------------------------------ shapes

#: what each shape set is, for the verdict line
SHAPE_SET_NAMES = {
    "resq": "the RES-Q PLUS shapes", "kgqa": "kgqa's shapes", "review": "kgqa's review-decision shapes",
}
#: where the RES-Q PLUS shapes come from (they are not redistributed with kgqa)
RESQ_SHAPES_URL = "https://github.com/Ontotext-AD/resq_plus/blob/main/ValidationScripts/shacl_valid.ttl"
RESQ_SHAPES_HINT = (f"get shacl_valid.ttl from {RESQ_SHAPES_URL} and pass --resq-shapes PATH "
                    "or set rdf.resq_shapes=PATH")  # fmt: skip


def _resolve(path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (PROJECT_ROOT / p).resolve()


def load_shape_sets(cfg: RdfConfig) -> tuple[list[ShapeSet], list[str]]:
    """kgqa's shapes (required) and the RES-Q PLUS shapes (optional: skipped with a reason when absent)."""
    sets: list[ShapeSet] = []
    skipped: list[str] = []
    kgqa_path = _resolve(cfg.kgqa_shapes)
    if not kgqa_path.is_file():
        raise ConfigError(f"rdf.kgqa_shapes: {kgqa_path} does not exist")
    resq_path = _resolve(cfg.resq_shapes) if cfg.resq_shapes else None
    if resq_path is not None and resq_path.is_file():
        sets.append(ShapeSet("resq", resq_path, Graph().parse(resq_path, format="turtle")))
    else:
        reason = f"RES-Q PLUS shapes: {resq_path or '(rdf.resq_shapes is empty)'} not found ({RESQ_SHAPES_HINT})"
        log.warning(reason)
        skipped.append(reason)
    sets.append(ShapeSet("kgqa", kgqa_path, Graph().parse(kgqa_path, format="turtle")))
    # reviewers' decisions (kgqa review) live in the same store: their shapes target only kgqar: classes
    from kgqa.review import SHAPES as review_shapes

    sets.append(ShapeSet("review", review_shapes, Graph().parse(review_shapes, format="turtle")))
    return sets, skipped


def mandatory_parts(shapes: Graph) -> dict[Node, URIRef]:
    """Property shapes that demand a ``scdm:hasPart`` of some class on a ClinicalCase -> that class."""
    out: dict[Node, URIRef] = {}
    for node_shape in shapes.subjects(SH.targetClass, RESQ.ClinicalCase):
        for prop in shapes.objects(node_shape, SH.property):
            if shapes.value(prop, SH.path) != SCDM.hasPart:
                continue
            qualified = shapes.value(prop, SH.qualifiedValueShape)
            cls = shapes.value(qualified, SH["class"]) if qualified is not None else None
            if cls is not None and shapes.value(prop, SH.qualifiedMinCount) is not None:
                out[prop] = cls
            elif shapes.value(prop, SH.minCount) is not None:
                out[prop] = SCDM.hasPart  # "at least one part at all"
    return out


# ------------------------------------------------------------------ data


def union_graph(data: Dataset | Graph | Iterable[Graph]) -> Graph:
    """All triples of all named graphs (and the default graph) in one graph: what GraphDB queries see."""
    union = Graph()
    for prefix, ns in BIND_PREFIXES.items():
        union.bind(prefix, ns)
    if isinstance(data, Dataset):
        for s, p, o, _ in data.quads((None, None, None, None)):
            union.add((s, p, o))
    elif isinstance(data, Graph):
        union += data
    else:
        for g in data:
            union += g
    return union


def _short(graph: Graph, node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # noqa: BLE001 — rendering must never fail
            return f"<{node}>"
    return node.n3(graph.namespace_manager) if hasattr(node, "n3") else str(node)


def _path(shapes: Graph, results: Graph, node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, BNode):
        # a sequence path: render (a b) as a/b
        for g in (results, shapes):
            if (node, RDF.first, None) in g:
                return "/".join(_short(g, item) for item in Collection(g, node))
        return "(complex path)"
    return _short(results, node)


def _note_ids(union: Graph, case: Node) -> tuple[str, ...]:
    return tuple(sorted(str(i) for note in union.subjects(KGQA.case, case) for i in union.objects(note, KGQA.noteId)))


def _validate_one(data: Graph, shape_set: ShapeSet) -> Graph:
    from pyshacl import validate

    _, results, _ = validate(
        data,
        shacl_graph=shape_set.graph,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        advanced=False,
    )
    return results


def validate_graph(data: Dataset | Graph | Iterable[Graph], cfg: RdfConfig | None = None,
                   shape_sets: list[ShapeSet] | None = None) -> ValidationReport:
    cfg = cfg or RdfConfig()
    skipped: list[str] = []
    if shape_sets is None:
        shape_sets, skipped = load_shape_sets(cfg)
    union = union_graph(data)
    violations: list[Finding] = []
    warnings: list[Finding] = []
    missing: dict[Node, set[str]] = {}

    blank = {n for t in union for n in t if isinstance(n, BNode)}
    for node in sorted(blank, key=str)[:20]:
        violations.append(Finding("kgqa", "Violation", f"_:{node}", "", "", "kgqa never writes blank nodes; this "
                                  "graph has one", "blank node"))

    for shape_set in shape_sets:
        results = _validate_one(union, shape_set)
        mandatory = mandatory_parts(shape_set.graph)
        for result in results.subjects(RDF.type, SH.ValidationResult):
            focus = results.value(result, SH.focusNode)
            source = results.value(result, SH.sourceShape)
            component = results.value(result, SH.sourceConstraintComponent)
            severity = results.value(result, SH.resultSeverity)
            if source in mandatory and (focus, RDF.type, RESQ.ClinicalCase) in union:
                needed = mandatory[source]
                label = "fact at all" if needed == SCDM.hasPart else _short(union, needed)
                missing.setdefault(focus, set()).add(label)
                continue
            message = results.value(result, SH.resultMessage)
            finding = Finding(
                shapes=shape_set.name,
                severity=_short(results, severity).split(":")[-1] if severity is not None else "Violation",
                focus=_short(union, focus),
                path=_path(shape_set.graph, results, results.value(result, SH.resultPath)),
                value=_short(union, results.value(result, SH.value)),
                message=str(message) if message is not None else "",
                component=_short(results, component).split(":")[-1] if component is not None else "",
            )
            (violations if finding.severity == "Violation" else warnings).append(finding)

    order = lambda f: (f.shapes, f.focus, f.path, f.message)
    return ValidationReport(
        violations=tuple(sorted(violations, key=order)),
        warnings=tuple(sorted(warnings, key=order)),
        incomplete=tuple(
            IncompleteCase(_short(union, node), tuple(sorted(m)), _note_ids(union, node))
            for node, m in sorted(missing.items(), key=lambda kv: str(kv[0]))
        ),
        shape_sets=tuple(s.name for s in shape_sets),
        skipped=tuple(skipped),
        triples=len(union),
    )
