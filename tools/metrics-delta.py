#!/usr/bin/env python3
"""Means of the silo's Granary timings between two Prometheus scrapes of /metrics (tools/latency-budget.sh).

    metrics-delta.py BEFORE.prom AFTER.prom TOPIC

Each histogram's mean is (sum after - sum before) / (count after - count before); series of the topic only, except
the fsync histogram, which has no topic (so keep other topics idle during the phase).
"""
import re
import sys

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def read(path, topic):
    values = {}
    for line in open(path):
        match = LINE.match(line)
        if not match or not match.group(1).startswith("granary_"):
            continue
        name, labels, value = match.group(1), match.group(2) or "", match.group(3)
        if 'topic="' in labels and f'topic="{topic}"' not in labels:
            continue
        if name.endswith("_bucket"):
            le = re.search(r'le="([^"]+)"', labels).group(1)
            name = f"{name}[le={le}]"
        values[name] = values.get(name, 0.0) + float(value)
    return values


def main():
    before, after, topic = read(sys.argv[1], sys.argv[3]), read(sys.argv[2], sys.argv[3]), sys.argv[3]
    delta = lambda name: after.get(name, 0.0) - before.get(name, 0.0)

    def histogram(base, label):
        count, total = delta(base + "_count"), delta(base + "_sum")
        mean = f"{total / count * 1e6:9.1f} us" if count else "        -"
        print(f"  {label:<44} mean {mean}  (count {count:,.0f}, sum {total:.4f} s)")

    print(f"  messages stored ({topic})                       {delta('granary_messages_in_total'):,.0f}")
    histogram("granary_append_duration_seconds", "append (call to confirm), per batch")
    histogram("granary_fsync_duration_seconds", "fsync, per call")
    histogram("granary_fetch_wake_seconds", "visible -> woken fetch read, per fetch")
    histogram("granary_delivery_delay_seconds", "stamp -> pull answer, oldest per pull")
    messages, age = delta("granary_delivery_age_messages_total"), delta("granary_delivery_age_seconds_total")
    if messages:
        print(f"  {'stamp -> pull answer, per message':<44} mean {age / messages * 1e6:9.1f} us  (messages {messages:,.0f}, sum {age:.4f} s)")
        buckets = sorted(((float(k.split("le=")[1].rstrip("]")), delta(k)) for k in after
                          if k.startswith("granary_delivery_delay_seconds_bucket")), key=lambda b: b[0])
        pulls = delta("granary_delivery_delay_seconds_count")
        print("  oldest per pull, cumulative: " + ", ".join(
            f"<={le * 1000:g} ms {n / pulls:.1%}" for le, n in buckets if pulls and le <= 0.01))


main()
