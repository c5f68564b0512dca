#!/usr/bin/env python3
"""A fanin event handler for `worker --exec 'words=python3 handler.py'`.

A long-lived co-process: one JSON request per line on stdin
({"job", "event", "kind", "payload"}), one JSON answer per line on stdout
({"output": ...} or {"error": "...", "permanent": true}), with the request's
"event" echoed so that the worker checks each answer belongs to its request.
Each event is a line of text ({"id": "...", "text": "..."}); its output
counts its words.
"""

import json
import re
import sys

WORD = re.compile(r"[a-z']+")

for line in sys.stdin:
    req = json.loads(line)
    text = req["payload"].get("text") if isinstance(req["payload"], dict) else None
    if not isinstance(text, str):
        answer = {"error": 'event %s has no "text" string' % req["event"], "permanent": True}
    else:
        counts = {}
        for w in WORD.findall(text.lower()):
            counts[w] = counts.get(w, 0) + 1
        answer = {"output": counts}
    answer["event"] = req["event"]
    sys.stdout.write(json.dumps(answer, sort_keys=True) + "\n")
    sys.stdout.flush()
