#!/usr/bin/env python3
"""Time to first token at the last turn of a conversation, against an OpenAI-compatible server; one JSON line per run.

    prefix-cache.py --base-url http://127.0.0.1:8090 --model NAME --api responses|chat [--turns 10] [--words 55] [--salt N] [--label X]

Each turn sends --words words of new user text (55: with the answer, ~200 tokens of the 0.5b test model's tokenizer) and asks for
16 tokens at a fixed seed. `responses` chains turns with previous_response_id (store true, so the server rebuilds the
whole chain each turn); `chat` re-sends the growing message list with the previous answers. Every turn streams; the
time to first token is from the start of the send to the first text delta. Reported: the last turn's time to first
token, its input tokens and cached tokens, the sum over all turns, and a hash of every turn's text (equal across
servers that answer the same bytes). Standard library only.
"""
import argparse
import hashlib
import http.client
import json
import time
import urllib.parse

WORDS = ("the garden river north bright light stone window morning market table letter silver bridge quiet "
         "mountain harbor lantern valley orchard").split()


def text_for(turn, words, salt):
    # The salt starts every run's conversation differently, so that one run never finds another's turns cached.
    return f"Conversation {salt}. " + " ".join(WORDS[(turn * 7 + salt * 5 + i * 3 + i // 5) % len(WORDS)] for i in range(words))


def stream(conn, path, body):
    payload = json.dumps(body).encode("utf-8")
    start = time.perf_counter()
    conn.request("POST", path, payload, {"Content-Type": "application/json"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {response.read()[:500]!r}")
    first = None
    events = []
    buffer = b""
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            for line in raw.split(b"\n"):
                if line.startswith(b"data: {"):
                    event = json.loads(line[6:])
                    if first is None and (event.get("type") == "response.output_text.delta"
                                          or any(c.get("delta", {}).get("content") for c in event.get("choices", []))):
                        first = time.perf_counter() - start
                    events.append(event)
    return first if first is not None else time.perf_counter() - start, events


def run_responses(conn, model, turns, words, salt):
    previous, results, texts = None, [], []
    for t in range(turns):
        body = {"model": model, "input": text_for(t, words, salt), "max_output_tokens": 16, "seed": 7, "stream": True,
                "instructions": "You answer briefly."}
        if previous:
            body["previous_response_id"] = previous
        ttft, events = stream(conn, "/v1/responses", body)
        done = next(e for e in events if e.get("type") in ("response.completed", "response.incomplete"))
        previous = done["response"]["id"]
        usage = done["response"]["usage"]
        texts.append("".join(e["delta"] for e in events if e.get("type") == "response.output_text.delta"))
        results.append((ttft, usage["input_tokens"], usage["input_tokens_details"]["cached_tokens"]))
    return results, texts


def run_chat(conn, model, turns, words, salt):
    messages = [{"role": "system", "content": "You answer briefly."}]
    results, texts = [], []
    for t in range(turns):
        messages.append({"role": "user", "content": text_for(t, words, salt)})
        body = {"model": model, "messages": messages, "max_tokens": 16, "seed": 7, "stream": True,
                "stream_options": {"include_usage": True}}
        ttft, events = stream(conn, "/v1/chat/completions", body)
        answer = "".join(c["delta"].get("content") or "" for e in events for c in e.get("choices", []))
        usage = next(e["usage"] for e in events if e.get("usage"))
        messages.append({"role": "assistant", "content": answer})
        texts.append(answer)
        results.append((ttft, usage["prompt_tokens"], usage["prompt_tokens_details"]["cached_tokens"]))
    return results, texts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--api", choices=["responses", "chat"], default="responses")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--words", type=int, default=55)
    parser.add_argument("--label", default="")
    parser.add_argument("--salt", type=int, default=0)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    run = run_responses if args.api == "responses" else run_chat
    results, texts = run(conn, args.model, args.turns, args.words, args.salt)
    ttft, tokens, cached = results[-1]
    print(json.dumps({
        "label": args.label, "api": args.api, "turns": args.turns,
        "last_ttft_s": round(ttft, 3), "last_input_tokens": tokens, "last_cached_tokens": cached,
        "all_turns_ttft_s": round(sum(r[0] for r in results), 3),
        "tokens_per_turn": round(results[-1][1] / args.turns, 1),
        "text_sha256": hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:16],
    }), flush=True)


if __name__ == "__main__":
    main()
