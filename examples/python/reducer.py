#!/usr/bin/env python3
"""A fanin reducer for `coordinator run --reducer 'words=exec:python3 reducer.py'`.

Run once per job: the outputs on stdin, one {"id": "<event ID>", "output": ...}
per line, in no particular order; the result on stdout. It adds the word
counts of every line and prints the totals and the ten most frequent words,
the same bytes whatever the order of the outputs.
"""

import json
import os
import sys

total = {}
lines = 0
for line in sys.stdin:
    lines += 1
    for word, n in json.loads(line)["output"].items():
        total[word] = total.get(word, 0) + n
top = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
result = {
    "job": os.environ.get("FANIN_JOB_ID", ""),
    "lines": lines,
    "failed": int(os.environ.get("FANIN_JOB_FAILED", "0")),
    "words": sum(total.values()),
    "distinct": len(total),
    "top": [[w, n] for w, n in top],
}
sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
