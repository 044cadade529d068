"""Waits until the gateway answers a URL with a 2xx, over one keep-alive connection, and prints
the seconds since START (a `date +%s.%N` taken by the caller).

    python3 bench/wait_served.py START URL [-H 'Name: value']... [--pid PID] [--timeout S]

Used by bench/gateway.sh to time a startup (spawn -> first proxied answer) and a publish
(publish answer -> served). A curl process per probe would cost a few ms of CPU each on the
2 cores Portico is timed on; this probes every 5 ms for a fraction of that.
"""

import argparse
import http.client
import os
import sys
import time
import urllib.parse


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("start", type=float)
    parser.add_argument("url")
    parser.add_argument("-H", dest="headers", action="append", default=[])
    parser.add_argument("--pid", type=int)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    headers = dict(h.split(":", 1) for h in args.headers)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    target = url.path + (f"?{url.query}" if url.query else "")
    deadline = time.monotonic() + args.timeout
    connection = None
    while time.monotonic() < deadline:
        if args.pid is not None:
            try:
                os.kill(args.pid, 0)
            except ProcessLookupError:
                print(f"process {args.pid} exited", file=sys.stderr)
                return 1
        try:
            if connection is None:
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            response.read()
            if 200 <= response.status < 300:
                print(f"{time.time() - args.start:.2f}")
                return 0
        except (OSError, http.client.HTTPException):
            if connection is not None:
                connection.close()
            connection = None
        time.sleep(0.005)
    print(f"{args.url} not served within {args.timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
