#!/usr/bin/env bash
# Ack styles side by side (issue 19, cheap acks): one silo process of its own; N messages in 4 partitions; each ack
# style drains them all in its own group, back to back, the order rotated every round.
#
#   tools/ack-styles.sh BUILD_DIR [N] [ROUNDS]
#
# BUILD_DIR holds Granary.Silo.dll and Granary.LoadTest.dll (`dotnet publish Silo -c Release -o DIR` and the same for
# LoadTest). Prints one line per round and style: round, style, messages, seconds, messages/s, errors.
set -euo pipefail
dir=$1; n=${2:-11000}; rounds=${3:-6}
styles=(Awaited Forget ConfirmedForget Confirmed)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
data=$(mktemp -d /tmp/ack-styles-XXXX); gw=$(free_port); sp=$(free_port); admin=$(free_port)
dotnet "$dir/Granary.Silo.dll" --Granary:DataDirectory="$data" --Granary:GatewayPort="$gw" --Granary:SiloPort="$sp" \
  --Granary:Admin:Urls="http://127.0.0.1:$admin" > "$data.log" 2>&1 &
silo=$!
trap 'kill $silo 2>/dev/null; wait $silo 2>/dev/null; rm -rf "$data" "$data.log"' EXIT
until curl -sf "http://127.0.0.1:$admin/health/ready" > /dev/null; do sleep 0.5; done
tool="dotnet $dir/Granary.LoadTest.dll"
$tool produce --gateway "127.0.0.1:$gw" --topic acks --messages "$n" --size 100 --partitions 4 > /dev/null
for round in $(seq 1 "$rounds"); do
  for j in "${!styles[@]}"; do
    ack=${styles[$(( (j + round) % ${#styles[@]} ))]}
    $tool consume --gateway "127.0.0.1:$gw" --topic acks --group "$ack-$round" --messages "$n" --ack "$ack" --json "$data/r.json" > /dev/null 2>&1
    python3 -c "import json; r=json.load(open('$data/r.json')); r=r[0] if isinstance(r,list) else r; print($round, '$ack', r['messages'], round(r['seconds'],3), round(r['messagesPerSecond']), r['errors'])"
  done
done
