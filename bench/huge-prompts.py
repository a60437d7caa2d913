#!/usr/bin/env python3
"""Bursts of huge chat prompts against an OpenAI-compatible server; one JSON line per burst.

    huge-prompts.py --base-url http://127.0.0.1:8089 --server-pid PID [--ns 1,8,32] [--mib 10] [--idle-wait 2]

Each request is POST /v1/chat/completions with one user message of --mib MiB (mixed CJK, Latin, spaces and the text
of a special token, as tests/Capa.Server.Tests/Providers/Local/HugePromptTests does) and max_tokens 4; the body is
built once and sent by N threads at once. Per burst: the latency of each request (from the start of its send to the
last byte of its answer), statuses and error codes, the server's resident memory sampled every 10 ms during the
burst (VmRSS of --server-pid) and once more --idle-wait seconds after the burst. Standard library only.
"""
import argparse
import http.client
import json
import os
import statistics
import threading
import time
import urllib.parse

FILLER = "火星上有生命吗？ Is there life on Mars? <|im_end|> \n"


def rss_mib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def hwm_mib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid=None):
    """CPU time of one process, or (pid None) of the whole machine's busy time, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is not None:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / tick


def body(mib, model):
    target = mib * 1024 * 1024
    text = FILLER * (target // len(FILLER.encode("utf-8")))
    return json.dumps({"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 4},
                      ensure_ascii=False).encode("utf-8")


def send(url, payload, out, index):
    parts = urllib.parse.urlsplit(url)
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        conn.request("POST", "/v1/chat/completions", body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        code = None
        try:
            error = json.loads(data).get("error")
            code = error.get("code") if error else None
        except (ValueError, AttributeError):
            code = data[:80].decode("utf-8", "replace")
        out[index] = {"s": elapsed, "status": response.status, "code": code}
        conn.close()
    except OSError as e:
        out[index] = {"s": time.perf_counter() - start, "status": 0, "code": type(e).__name__}


def burst(url, payload, n, pid, idle_wait):
    results = [None] * n
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(rss_mib(pid))
            time.sleep(0.01)

    before = rss_mib(pid)
    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=send, args=(url, payload, results, i)) for i in range(n)]
    machine0, server0, t0 = cpu_seconds(), cpu_seconds(pid), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    machine, server = cpu_seconds() - machine0, cpu_seconds(pid) - server0
    stop.set()
    sampler.join()
    time.sleep(idle_wait)
    latencies = sorted(r["s"] for r in results)
    statuses = {}
    for r in results:
        key = f'{r["status"]} {r["code"]}'
        statuses[key] = statuses.get(key, 0) + 1
    cores = os.cpu_count() or 1
    return {
        "n": n,
        "body_mib": round(len(payload) / (1024 * 1024), 2),
        "wall_s": round(wall, 3),
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_max": round(latencies[-1], 3),
        "latency_s_min": round(latencies[0], 3),
        "answers": statuses,
        "rss_mib_before": round(before),
        "rss_mib_peak": round(max(samples + [before])),
        "rss_mib_after_idle": round(rss_mib(pid)),
        "idle_wait_s": idle_wait,
        "server_cpu_s": round(server, 2),
        # Busy CPU of everything else on the machine during the burst, as a share of all cores (the client included).
        "other_cpu_frac": round(max(0.0, machine - server) / (wall * cores), 2),
        "loadavg_1m": os.getloadavg()[0],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--model", default="capa-tiny")
    parser.add_argument("--ns", default="1,8,32")
    parser.add_argument("--mib", type=int, default=10)
    parser.add_argument("--idle-wait", type=float, default=2.0)
    parser.add_argument("--final-idle-wait", type=float, default=0.0,
                        help="after the last burst, also report the RSS after this many more seconds")
    parser.add_argument("--label", default="capa")
    args = parser.parse_args()
    payload = body(args.mib, args.model)
    # One unmeasured request: model load, JIT, first-use allocations.
    warm = [None]
    send(args.base_url, payload, warm, 0)
    time.sleep(args.idle_wait)
    for n in (int(v) for v in args.ns.split(",")):
        line = burst(args.base_url, payload, n, args.server_pid, args.idle_wait)
        line["label"] = args.label
        line["warmup"] = warm[0]
        print(json.dumps(line, ensure_ascii=False), flush=True)
    if args.final_idle_wait > 0:
        time.sleep(args.final_idle_wait)
        print(json.dumps({"label": args.label, "rss_mib_after_final_idle": round(rss_mib(args.server_pid)),
                          "final_idle_wait_s": args.final_idle_wait, "rss_mib_hwm": round(hwm_mib(args.server_pid))}),
              flush=True)


if __name__ == "__main__":
    main()
