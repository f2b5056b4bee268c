#!/usr/bin/env python3
"""A large history for measuring `zicht import`: the benchmark region of ../shared/bench/region.py
(10,000 households, about 1 million events by default), in the interchange format zicht reads
(`geweld_niet_te_stoppen` flags as escalation step 3, `phase3` events left out, as
../shared/bench/evaluate.py converts them), written as JSON Lines.

    python3 benches/import_region.py --n 10000 --out target/region-1m.jsonl
    time target/release/zicht import target/region-1m.jsonl
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--n", type=int, default=10000, help="households (about 100 events each)")
parser.add_argument("--seed", type=int, default=11)
parser.add_argument("--region", default=os.path.join(here, "..", "..", "shared", "bench", "region.py"))
parser.add_argument("--out", required=True)
a = parser.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    base = os.path.join(tmp, "region")
    subprocess.run([sys.executable, a.region, "--n", str(a.n), "--seed", str(a.seed), "--out", base],
                   check=True, stdout=subprocess.DEVNULL)
    lines = 0
    with open(base + ".jsonl") as src, open(a.out, "w") as dst:
        for line in src:
            if "phase3" in line or "geweld_niet_te_stoppen" in line:
                o = json.loads(line)
                if o["type"] == "phase3":
                    continue
                if o["type"] == "flag" and o["flag"] == "geweld_niet_te_stoppen":
                    line = json.dumps({"type": "escalation", "household": o["household"], "at": o["at"],
                                       "step": 3, "reason": "geweld niet te stoppen"}) + "\n"
            dst.write(line)
            lines += 1
print(f"{lines} lines in {a.out}")
