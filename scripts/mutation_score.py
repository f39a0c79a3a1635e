"""Print one module's mutation score (used by scripts/mutation.sh).

Usage: python scripts/mutation_score.py STATS.json SURVIVORS.txt MODULE MIN SECONDS SHA256 RECHECKED

STATS.json is mutmut's `export-cicd-stats` output of the module's last full run; this script adds
the module's sha256 and the count of mutants still alive. SURVIVORS.txt lists them (`=== name` and
the diff). A mutant whose tests timed out was noticed, so it counts as killed. With RECHECKED > 0,
that many survivors of the full run were run again against the current tests. Exits 1 below MIN %.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    path, survivors, module, need, secs, digest, rechecked = argv
    with open(path) as fh:
        stats = json.load(fh)
    with open(survivors) as fh:
        left = sum(1 for line in fh if line.startswith("=== "))
    note = f"; rechecked {rechecked} survivors of the last full run, {int(rechecked) - left} now killed" \
        if int(rechecked) else ""
    stats.update(sha256=digest, left=left)
    with open(path, "w") as fh:
        json.dump(stats, fh, indent=1)
    caught = stats["total"] - left
    pct = 100.0 * caught / max(1, stats["total"])
    print(f"mutation {module} killed {caught}/{stats['total']} = {pct:.1f}% (survived {left}{note}; {secs} s)",
          flush=True)
    return 0 if pct >= float(need) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
