#!/bin/bash
# check_k8s_sandbox_changed written the usual way: SandboxChanged and
# FailedCreatePodSandBox events of the last 10 minutes, per node.
# Usage: sandbox_changed.sh KUBECONFIG
K=(--kubeconfig "$1")
now=$(date +%s)
per_node=$(kubectl "${K[@]}" get events -A -o json | jq -r --argjson now "$now" '
  def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;
  [.items[] | select(.reason == "SandboxChanged" or .reason == "FailedCreatePodSandBox")
   | select(((.series.lastObservedTime // .lastTimestamp // .eventTime) | ts) > $now - 600)
   | {node: (.source.host // .reportingInstance // "unknown"), n: (.series.count // .count // 1)}]
  | group_by(.node)[] | "\(.[0].node) \(map(.n) | add)"')
worst=$(sort -k2 -n -r <<<"$per_node" | head -1)
n=${worst##* }
if [ -n "$n" ] && [ "$n" -ge 10 ]; then echo "CRITICAL - sandbox churn on ${worst% *}: $n events in 10m"; exit 2; fi
if [ -n "$n" ] && [ "$n" -ge 1 ]; then echo "WARNING - sandbox events: $(tr '\n' ' ' <<<"$per_node")"; exit 1; fi
echo "OK - no sandbox events in 10m"
