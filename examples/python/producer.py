#!/usr/bin/env python3
"""Submit a fanin job through the HTTP API, follow it, and print its result.

Standard library only. The events are a file of JSON lines (one event per
line, its "id" field the event ID, or --id-field), sent as the body of
POST /api/v1/jobs without being held in memory; the job is followed through
its Server-Sent Events stream; its result is written byte for byte to --out
(or stdout).

    python3 producer.py --api http://127.0.0.1:8080 --kind zombies.sighting \
        --events sightings.jsonl --out result.json

A server with a token (coordinator serve --token) gets it from FANIN_API_TOKEN.
Exit codes, as coordinator's: 0 done, 1 other error, 2 refused input (400, 413)
or a missing token (401), 3 the job failed, ended partial (its result is still
written) or was cancelled, 5 --timeout passed first.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


class Failed(Exception):
    """An error to report, with the exit code to leave with."""

    def __init__(self, message, code=1, status=0):
        super().__init__(message)
        self.code = code
        self.status = status


class Client:
    """The few calls of the fanin API this producer makes."""

    def __init__(self, api, token):
        self.base = api.rstrip("/") + "/api/v1"
        self.token = token

    def request(self, method, path, body=None, headers=None, timeout=60):
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base + path, data=body, headers=h, method=method)
        try:
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            try:
                message = json.load(e).get("error", e.reason)
            except ValueError:
                message = e.reason
            code = 2 if e.code in (400, 401, 413) else 1
            if e.code == 401:
                message += " (set FANIN_API_TOKEN to the server's --token)"
            raise Failed("%s %s: %d: %s" % (method, path.split("?")[0], e.code, message), code, e.code) from None
        except urllib.error.URLError as e:
            raise Failed("cannot reach %s: %s" % (self.base, e.reason)) from None

    def submit(self, events, params):
        """POST the events file as the body, streamed from disk."""
        size = os.path.getsize(events)
        with open(events, "rb") as body:
            query = urllib.parse.urlencode(params)
            headers = {"Content-Type": "application/x-ndjson", "Content-Length": str(size)}
            with self.request("POST", "/jobs?" + query, body, headers, timeout=3600) as resp:
                return json.load(resp)

    def status(self, job):
        with self.request("GET", "/jobs/" + job) as resp:
            return json.load(resp)

    def follow(self, job, deadline, report):
        """Follow the job's stream until it ends; reconnect when it breaks,
        poll when the server has no stream to spare. Returns its last status."""
        last = None
        while True:
            if deadline and time.monotonic() > deadline:
                return last
            try:
                with self.request("GET", "/jobs/%s/stream" % job, timeout=60) as resp:
                    event = "message"
                    for raw in resp:
                        line = raw.decode("utf-8").rstrip("\r\n")
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: "):
                            data = json.loads(line[6:])
                            if event == "status":
                                last = data
                                report(data)
                            elif event == "end":
                                return last
                        elif line == "":
                            event = "message"
                        if deadline and time.monotonic() > deadline:
                            return last
            except Failed as e:
                if e.status != 503:
                    raise
                last = self.status(job)
                report(last)
                if last["state"] in ("done", "partial", "failed", "cancelled"):
                    return last
                time.sleep(1)
            except (OSError, ValueError):
                time.sleep(1)  # the stream broke: follow it again

    def result(self, job, out):
        """Write the committed result, exactly its bytes, to out."""
        with self.request("GET", "/jobs/%s/result" % job, timeout=600) as resp:
            shutil.copyfileobj(resp, out)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", default=os.environ.get("FANIN_API", "http://127.0.0.1:8080"), help="the server of coordinator serve (env FANIN_API)")
    p.add_argument("--kind", required=True, help="the job's kind: names its handler and reducer")
    p.add_argument("--events", required=True, help='file of JSON lines, one event per line ("-": stdin)')
    p.add_argument("--name", default="", help="a label for people")
    p.add_argument("--id-field", default="id", help='field holding the event ID ("" generates every ID)')
    p.add_argument("--policy", choices=["fail", "continue"], default="fail")
    p.add_argument("--deadline", default="", help="how long the job may take, like 1h")
    p.add_argument("--out", default="-", help='file to write the result to ("-": stdout)')
    p.add_argument("--timeout", type=float, default=0, help="give up following after this many seconds (0: never)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)

    client = Client(args.api, os.environ.get("FANIN_API_TOKEN", ""))
    events, spool = args.events, None
    if events == "-":  # the body needs a length: copy stdin to a file first
        spool = tempfile.NamedTemporaryFile(prefix="fanin-producer-", suffix=".jsonl", delete=False)
        shutil.copyfileobj(sys.stdin.buffer, spool)
        spool.close()
        events = spool.name
    try:
        params = {"kind": args.kind, "id_field": args.id_field, "policy": args.policy}
        if args.name:
            params["name"] = args.name
        if args.deadline:
            params["deadline"] = args.deadline
        job = client.submit(events, params)
    finally:
        if spool:
            os.unlink(spool.name)
    print("submitted job %s (%d events)" % (job["id"], job["events"]), file=sys.stderr)

    shown = [None]

    def report(st):
        line = "%s: %d of %d events finished, %d done, %d failed" % (
            st["state"], st["done"] + st["failed"], st["total"], st["done"], st["failed"])
        if not args.quiet and line != shown[0]:
            print(line, file=sys.stderr)
            shown[0] = line

    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    st = client.follow(job["id"], deadline, report)
    if st is None or st["state"] not in ("done", "partial", "failed", "cancelled"):
        raise Failed("job %s is still %s after --timeout %gs" % (job["id"], st and st["state"], args.timeout), 5)
    if st["state"] in ("failed", "cancelled"):
        raise Failed("job %s %s: %s" % (job["id"], st["state"], st.get("error", "")), 3)
    if args.out == "-":
        client.result(job["id"], sys.stdout.buffer)
    else:
        tmp = args.out + ".tmp"
        with open(tmp, "wb") as out:
            client.result(job["id"], out)
        os.replace(tmp, args.out)
    if st["state"] == "partial":
        raise Failed("job %s is partial: %d events failed; the result covers the %d others" % (job["id"], st["failed"], st["done"]), 3)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failed as e:
        print("producer: %s" % e, file=sys.stderr)
        sys.exit(e.code)
    except KeyboardInterrupt:
        sys.exit(130)
