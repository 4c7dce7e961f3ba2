"""The mutation score of `make mutation`: mutants killed over every mutant checked.

Reads mutmut's per-file results (mutants/**/*.meta) and prints the score, the counts by status
and every surviving mutant's name (`mutmut show NAME` prints its diff), for docs/mutation.md.
Exit 1 when the score is under the bar.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

BAR = 0.90
# mutmut's exit codes: 1 and 3 mean the tests failed (killed), 0 that they passed (survived);
# a timeout also stops the mutant (an infinite loop the tests would not finish). A mutant no
# selected test reaches (5, 33: "no tests") counts against the score, like a survivor: a
# definition no test runs is not pinned. Unchecked ones (None) are left out.
KILLED = {1, 3, 36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


def main(root: Path = Path("mutants")) -> int:
    statuses: Counter[str] = Counter()
    survivors: list[str] = []
    for meta in sorted(root.rglob("*.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code in KILLED:
                statuses["killed"] += 1
            elif code in SURVIVED or code in NO_TESTS:
                status = "survived" if code in SURVIVED else "no tests"
                statuses[status] += 1
                survivors.append(f"{name} ({status})")
            elif code is None:
                statuses["not checked"] += 1
            else:
                statuses[f"other ({code})"] += 1
    reached = statuses["killed"] + statuses["survived"] + statuses["no tests"]
    if not reached:
        print("no mutant was tested: run `make mutation` first")
        return 1
    score = statuses["killed"] / reached
    print(f"mutation score: {score:.1%} ({statuses['killed']} killed of {reached})")
    print("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    for name in survivors:
        print(f"not killed: {name}")
    return 0 if score >= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
