"""Runners: how ``kgqa run`` distributes work (``runner=local`` in-process, ``runner=ray`` on Ray Data).

See docs/scale-out.md. Partitions, canonical sharded N-Quads and shard loading live here; the
runner functions themselves are registered in ``kgqa.commands.run.RUNNERS``.
"""
