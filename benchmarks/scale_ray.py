"""Notes/s of ``runner=ray`` with 1 and 2 reader actors, next to ``runner=local``, in one process.

The workload: the bundled sample notes replicated to N notes (unique ids) in a .jsonl file, every
concept of the catalogue asked of each (``--concepts K`` asks only the first K), the configured model
(default: the tiny random model built locally, so the figures measure the machinery, not a real
model's FLOPs — pass ``--model PATH`` for a real checkpoint). Each side writes sharded N-Quads; the
benchmark also checks that every side's canonical N-Quads are byte-identical.

    python benchmarks/scale_ray.py --quick
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def make_notes(n: int, out: Path) -> Path:
    from kgqa.notes import read_notes

    samples = read_notes(ROOT / "samples" / "notes").notes
    with out.open("w", encoding="utf-8") as fh:
        for i in range(n):
            s = samples[i % len(samples)]
            fh.write(json.dumps({"id": f"bench-{i:06d}", "lang": s.lang, "text": s.text}, ensure_ascii=False) + "\n")
    return out


def run_side(runner: str, actors: int, notes: Path, work: Path, model: str, concepts: list[str]) -> tuple[float, str]:
    from kgqa.commands.run import execute
    from kgqa.config import RunConfig, compose, to_object

    overrides = [
        f"runner={runner}",
        f"notes.path={notes}",
        "notes.format=jsonl",
        "notes.default_lang=en",
        "store=memory",
        "output.nquads=true",
        "output.trig=false",
        "summary_query=",
        "run_id=bench",
        "runner.progress=false",
        f"runner.actors={actors}",
        "runner.partition_size=10",
        "runner.cpus_per_actor=0.5",
    ]
    if model:
        overrides += ["model=local", f"model.path={model}"]
    if concepts:
        overrides.append("catalogue.concepts=[" + ",".join(concepts) + "]")
    cfg = to_object(compose(overrides), RunConfig)
    out = work / f"{runner}-{actors}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    summary = execute(cfg, out)
    seconds = time.perf_counter() - t0
    return summary["notes"] / seconds, (out / "graphs.nq").read_text(encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 notes, 5 concepts")
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--concepts", type=int, default=0, help="ask only the first K concepts (0 = all)")
    parser.add_argument("--model", default="", help="checkpoint path (default: the configured default model)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n_notes, n_concepts = (20, 5) if args.quick else (args.notes, args.concepts)

    from kgqa.catalogue import load_catalogue
    from kgqa.config import compose, register_configs

    register_configs()
    cat_path = compose([]).catalogue.path
    concepts = [c.id for c in load_catalogue(cat_path)][:n_concepts] if n_concepts else []

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        notes = make_notes(n_notes, work / "notes.jsonl")
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            local_rate, local_nq = run_side("local", 1, notes, work, args.model, concepts)
            ray1_rate, ray1_nq = run_side("ray", 1, notes, work, args.model, concepts)
            ray2_rate, ray2_nq = run_side("ray", 2, notes, work, args.model, concepts)
        finally:
            ray.shutdown()
    figures = {
        "notes": n_notes,
        "concepts": n_concepts or "all",
        "cpus": os.cpu_count(),
        "local_notes_per_s": round(local_rate, 3),
        "ray_1_worker_notes_per_s": round(ray1_rate, 3),
        "ray_2_workers_notes_per_s": round(ray2_rate, 3),
        "ratio_2_vs_1_workers": round(ray2_rate / ray1_rate, 3),
        "ratio_ray2_vs_local": round(ray2_rate / local_rate, 3),
        "identical_nquads": local_nq == ray1_nq == ray2_nq,
    }
    print(f"local {local_rate:.2f} notes/s; ray 1 worker {ray1_rate:.2f}; ray 2 workers {ray2_rate:.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
