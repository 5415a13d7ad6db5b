"""OBO 1.2/1.4 flat-file loader (HPO, Disease Ontology): names, synonyms, is_a ancestors.

A small hand-written reader rather than pronto/fastobo: we need five tags, and reading
HPO's 10 MB takes well under a second this way; unknown tags are skipped as the spec allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kgqa.linking.loaders.io import error, open_text
from kgqa.linking.terms import Label, Term

OBO_PURL = "http://purl.obolibrary.org/obo/"
# synonym: "text" SCOPE [TYPE] [xrefs]
_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)"\s+(EXACT|RELATED|NARROW|BROAD)\b\s*([\w:.-]+)?')
_SCOPE_KIND = {"EXACT": "syn", "RELATED": "related", "NARROW": "related"}
_UNESCAPE = re.compile(r"\\(.)")


def obo_iri(curie: str) -> str:
    prefix, sep, local = curie.partition(":")
    return f"{OBO_PURL}{prefix}_{local}" if sep else curie


def load_obo(path: Path, lang: str = "en", **_: object) -> Iterator[Term]:
    """Terms of an OBO file; obsolete terms are skipped; ancestors (is_a, transitive) become branches."""
    stanzas: list[dict] = []
    current: dict | None = None
    with open_text(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("!"):
                continue
            if line.startswith("["):
                if not line.endswith("]"):
                    raise error(path, lineno, f"malformed stanza header {line!r}")
                current = {"line": lineno, "names": [], "syns": [], "is_a": [], "xrefs": []} if line == "[Term]" else None
                if current is not None:
                    stanzas.append(current)
                continue
            tag, sep, value = line.partition(":")
            if not sep:
                raise error(path, lineno, f"expected 'tag: value', got {line!r}")
            if current is None:
                continue  # header or a [Typedef]/[Instance] stanza
            value = _strip_comment(value.strip())
            if tag == "id":
                current["id"] = value
            elif tag == "name":
                current["names"].append(value)
            elif tag == "synonym":
                m = _SYNONYM.match(value)
                if not m:
                    raise error(path, lineno, f"malformed synonym {value!r}")
                text, scope, typ = m.groups()
                if scope in _SCOPE_KIND:
                    kind = "abbr" if typ and "abbrev" in typ.lower() else _SCOPE_KIND[scope]
                    current["syns"].append((_UNESCAPE.sub(r"\1", text), kind))
            elif tag == "is_a":
                current["is_a"].append(value.split()[0])
            elif tag == "xref":
                current["xrefs"].append(value.split()[0])
            elif tag == "is_obsolete" and value == "true":
                current["obsolete"] = True
    parents: dict[str, list[str]] = {}
    for st in stanzas:
        if "id" not in st:
            raise error(path, st["line"], "[Term] stanza without an id")
        parents[st["id"]] = st["is_a"]
    ancestors = _closure(parents)
    for st in stanzas:
        if st.get("obsolete"):
            continue
        labels = [Label(n, lang, "pref") for n in st["names"]]
        labels += [Label(t, lang, kind) for t, kind in st["syns"]]
        yield Term(
            id=st["id"],
            iri=obo_iri(st["id"]),
            labels=tuple(labels),
            branches=ancestors[st["id"]],
            extra={"xrefs": " ".join(st["xrefs"])} if st["xrefs"] else {},
        )


def _strip_comment(value: str) -> str:
    # "HP:0000118 ! Phenotypic abnormality" → "HP:0000118"; quoted text may contain "!".
    if value.startswith('"'):
        return value
    return value.split(" ! ", 1)[0].strip()


def _closure(parents: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    memo: dict[str, tuple[str, ...]] = {}

    def visit(node: str, stack: frozenset) -> tuple[str, ...]:
        if node in memo:
            return memo[node]
        out: dict[str, None] = {}
        for p in parents.get(node, ()):
            if p in stack:
                continue  # a cycle: stop rather than recurse forever
            out[p] = None
            out.update(dict.fromkeys(visit(p, stack | {p})))
        memo[node] = tuple(out)
        return memo[node]

    return {node: visit(node, frozenset({node})) for node in parents}
