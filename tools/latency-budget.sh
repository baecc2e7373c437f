#!/usr/bin/env bash
# Latency budget of W3 (end to end at a fixed rate) and W4 (serial sends) for issue 18, measured with the silo's own
# histograms: a silo process of a Release build, the Prometheus /metrics read before and after each measured phase
# (after a warm-up), and the tool's end-to-end (W3) and send-to-confirm (W4) latencies, mean included; then W4 once
# more with the tool warm as well (--warmup in its own process).
#
#   tools/latency-budget.sh BUILD_DIR OUT_DIR [W3_SECONDS]
#
# BUILD_DIR holds Granary.Silo.dll and Granary.LoadTest.dll (dotnet publish Silo -c Release -o DIR, same for LoadTest).
# Prints, per phase, the tool's figures and the means of the silo's timings (tools/metrics-delta.py).
set -euo pipefail
dir=$1; out=$2; w3_seconds=${3:-30}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

data=$(mktemp -d /tmp/latbudget-silo-XXXX); gw=$(free_port); sp=$(free_port); admin=$(free_port)
dotnet "$dir/Granary.Silo.dll" --Granary:DataDirectory="$data" --Granary:GatewayPort="$gw" --Granary:SiloPort="$sp" \
  --Granary:Admin:Urls="http://127.0.0.1:$admin" > "$out/silo.log" 2>&1 &
silo_pid=$!
trap 'kill "$silo_pid" 2>/dev/null; wait "$silo_pid" 2>/dev/null; rm -rf "$data"' EXIT
until curl -sf "http://127.0.0.1:$admin/health/ready" > /dev/null; do sleep 0.5; done
tool="dotnet $dir/Granary.LoadTest.dll"
# The exporter caches a scrape for a moment: wait it out so that each reading is fresh.
scrape() { sleep 1.5; curl -sf "http://127.0.0.1:$admin/metrics" > "$1"; }

# W3: a warm-up run, then the measured one (its own consumer group, starting at the latest offset).
$tool e2e --gateway "127.0.0.1:$gw" --topic w3 --rate 10000 --duration 5 --size 100 > "$out/w3-warmup.txt" 2>&1
scrape "$out/w3-before.prom"
$tool e2e --gateway "127.0.0.1:$gw" --topic w3 --rate 10000 --duration "$w3_seconds" --size 100 > "$out/w3.txt" 2>&1
scrape "$out/w3-after.prom"
echo "== W3: e2e --rate 10000 --duration $w3_seconds --size 100"
grep -E '^  (messages |messages/s|latency|errors)' "$out/w3.txt"
python3 "$here/metrics-delta.py" "$out/w3-before.prom" "$out/w3-after.prom" w3

# W4: 500 serial sends to warm up, then 3,000 measured.
$tool produce --gateway "127.0.0.1:$gw" --topic w4 --messages 500 --size 100 --partitions 1 --window 1 > "$out/w4-warmup.txt" 2>&1
scrape "$out/w4-before.prom"
$tool produce --gateway "127.0.0.1:$gw" --topic w4 --messages 3000 --size 100 --partitions 1 --window 1 > "$out/w4.txt" 2>&1
scrape "$out/w4-after.prom"
echo "== W4: produce --partitions 1 --window 1 --messages 3000 --size 100"
grep -E '^  (messages |messages/s|latency|errors)' "$out/w4.txt"
python3 "$here/metrics-delta.py" "$out/w4-before.prom" "$out/w4-after.prom" w4

# W4 again with the tool's own code warm too (--warmup in the same process, on w4warm-warmup): the phase above starts a
# fresh tool process, whose first thousands of sends run before the JIT has optimized the SDK and Orleans' client.
$tool produce --gateway "127.0.0.1:$gw" --topic w4warm --messages 3000 --size 100 --partitions 1 --window 1 --warmup 3000 > "$out/w4-warm.txt" 2>&1
echo "== W4, tool warm too: produce --partitions 1 --window 1 --messages 3000 --warmup 3000"
grep -E '^  (messages |messages/s|latency|errors)' "$out/w4-warm.txt"
