#!/usr/bin/env bash
# Same-run comparison for issue 18: W1 (produce 100 B, 4 partitions, 1,000 sends in flight) and W2 (drain with
# per-message acks) against a silo of its own process, for one or more builds, plus the Redis streams peer
# (appendfsync always) from the same load generator, with the silo's allocated bytes per message.
#
#   tools/bench-same-run.sh OUT_DIR MESSAGES RUNS LABEL=BUILD_DIR[:counters] ...
#
# BUILD_DIR is a Release output folder holding Granary.Silo.dll and Granary.LoadTest.dll (LoadTest/bin/Release/net10.0).
# Each build runs its own silo and its own tool (the SDK's defaults are part of a build); Redis runs from the first
# build's tool. Extra produce flags for a build: FLAGS_<label> (e.g. FLAGS_rr="--partitioning RoundRobin").
# ":counters" reads the silo's allocations with dotnet-counters (DOTNET_COUNTERS, a 60 s window per phase whose
# per-second increments inside the phase are summed), for builds whose /metrics lacks System.Runtime; otherwise the
# tool reads them itself (--silo-metrics). Each run: every build in turn, then Redis.
# WARMUP (default 200000; 0 = none): unmeasured warm-up messages before the measured phases, the same for every side,
# so that each is measured with its JIT settled: produce/consume/redis --warmup $WARMUP (sent to w1-warmup, drained by
# w2, in the same tool process). A build whose tool predates --warmup, or a ":counters" build (its dotnet-counters
# window would count the warm-up), gets the warm-up as separate produce/consume commands on w1-warmup against its silo
# before the measured phases instead: its silo is warm, its tool is not (a note says so).
set -euo pipefail
out=$1; messages=$2; runs=$3; shift 3
mkdir -p "$out"
tool_dir=${1#*=}; tool_dir=${tool_dir%:counters}
redis_tool="dotnet $tool_dir/Granary.LoadTest.dll"
counters=${DOTNET_COUNTERS:-dotnet-counters}
warmup=${WARMUP:-200000}
redis_warmup=()
if [ "$warmup" -gt 0 ]; then
  if $redis_tool redis --help | grep -- --warmup > /dev/null; then redis_warmup=(--warmup "$warmup")
  else echo "note: $tool_dir's tool has no redis --warmup: Redis is measured without a warm-up"; fi
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Sums dotnet-counters' per-second increments between two epoch seconds (the last second's row included).
sum_csv() { python3 - "$1" "$2" "$3" <<'PY'
import csv, sys, datetime
path, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total = 0
for row in csv.DictReader(open(path)):
    t = datetime.datetime.strptime(row["Timestamp"], "%m/%d/%Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    if start < t <= end + 1: total += float(row["Mean/Increment"])
print(int(total))
PY
}

phase() { # label build mode workload args...
  local label=$1 mode=$2 name=$3; shift 3
  local log="$out/$label-$name-$run.txt"
  if [ "$mode" = counters ]; then
    "$counters" collect -p "$silo_pid" --counters 'System.Runtime[dotnet.gc.heap.total_allocated]' --format csv \
      -o "$out/$label-$name-$run.csv" --refresh-interval 1 --duration 00:00:01:00 > /dev/null 2>&1 &
    local counters_pid=$!
    sleep 2
    local t0; t0=$(date +%s)
    $tool "$@" > "$log" 2>&1
    local t1; t1=$(date +%s)
    wait $counters_pid
    local bytes; bytes=$(sum_csv "$out/$label-$name-$run.csv" "$t0" "$t1")
    local count; count=$(grep -E '^  messages ' "$log" | awk '{gsub(",","",$2); print $2}')
    echo "  dotnet-counters: silo allocated bytes $bytes in ${t0}..${t1}, bytes/message $(python3 -c "print(round($bytes/max($count,1),1))")" >> "$log"
  else
    $tool "$@" --silo-metrics "http://127.0.0.1:$admin/metrics" > "$log" 2>&1
  fi
  echo "$label $name run $run: $(grep -E '^  messages/s' "$log" | awk '{print $2}') msg/s $(grep -E 'silo allocated bytes/message|dotnet-counters' "$log" | tr -s ' ' | tr '\n' ' ')"
}

for run in $(seq 1 "$runs"); do
  for build in "$@"; do
    label=${build%%=*}; dir=${build#*=}; mode=metrics
    case $dir in *:counters) dir=${dir%:counters}; mode=counters ;; esac
    tool="dotnet $dir/Granary.LoadTest.dll"; flags_var="FLAGS_$label"
    data=$(mktemp -d /tmp/bench-silo-XXXX); gw=$(free_port); sp=$(free_port); admin=$(free_port)
    dotnet "$dir/Granary.Silo.dll" --Granary:DataDirectory="$data" --Granary:GatewayPort="$gw" --Granary:SiloPort="$sp" \
      --Granary:Admin:Urls="http://127.0.0.1:$admin" > "$out/$label-silo-$run.log" 2>&1 &
    silo_pid=$!
    until curl -sf "http://127.0.0.1:$admin/health/ready" > /dev/null; do sleep 0.5; done
    warm=()
    if [ "$warmup" -gt 0 ]; then
      if [ "$mode" != counters ] && $tool produce --help | grep -- --warmup > /dev/null; then warm=(--warmup "$warmup")
      else
        # The same warm-up as separate commands before the measured phases: the silo is warm, this tool process is not.
        echo "note: $label: warm-up of $warmup messages as separate produce/consume commands on w1-warmup ($([ "$mode" = counters ] && echo "dotnet-counters would count an in-process warm-up" || echo "its tool has no --warmup")): its silo is warm, its tool is cold"
        $tool produce --gateway "127.0.0.1:$gw" --topic w1-warmup --messages "$warmup" --size 100 --partitions 4 --window 1000 ${!flags_var:-} > "$out/$label-warmup-$run.txt" 2>&1
        $tool consume --gateway "127.0.0.1:$gw" --topic w1-warmup --group w2 --messages "$warmup" >> "$out/$label-warmup-$run.txt" 2>&1
      fi
    fi
    phase "$label" "$mode" w1 produce --gateway "127.0.0.1:$gw" --topic w1 --messages "$messages" --size 100 --partitions 4 --window 1000 ${!flags_var:-} "${warm[@]}"
    phase "$label" "$mode" w2 consume --gateway "127.0.0.1:$gw" --topic w1 --group w2 --messages "$messages" "${warm[@]}"
    kill "$silo_pid"; wait "$silo_pid" || true; rm -rf "$data"
  done
  $redis_tool redis --messages "$messages" --size 100 --window 1000 --data-dir /tmp "${redis_warmup[@]}" > "$out/redis-$run.txt" 2>&1
  echo "redis run $run: $(grep -E '^  messages/s' "$out/redis-$run.txt" | awk '{print $2}' | tr '\n' ' ') msg/s (W1 W2)"
done
