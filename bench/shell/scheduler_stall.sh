#!/bin/bash
# check_k8s_scheduler_stall written the usual way: Pending pods with no node,
# older than 5 minutes, that got no FailedScheduling event in 10 minutes.
# Usage: scheduler_stall.sh KUBECONFIG
K=(--kubeconfig "$1")
now=$(date +%s)
DEFS='def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;
      def seen: (.series.lastObservedTime // .lastTimestamp // .eventTime) | ts;'
failed=$(kubectl "${K[@]}" get events -A -o json | jq -r --argjson now "$now" "$DEFS"'
  .items[] | select(.reason == "FailedScheduling" and seen > $now - 600)
  | .involvedObject.namespace + "/" + .involvedObject.name' | sort -u)
stalled=$(kubectl "${K[@]}" get pods -A -o json | jq -r --argjson now "$now" --arg failed "$failed" "$DEFS"'
  ($failed | split("\n") | map({(.): true}) | add // {}) as $f
  | .items[] | select(.status.phase == "Pending" and .spec.nodeName == null
                      and (.metadata.creationTimestamp | ts) < $now - 300)
  | .metadata.namespace + "/" + .metadata.name | select($f[.] | not)')
n=$(grep -c . <<<"$stalled")
if [ "$n" -gt 0 ]; then
  echo "CRITICAL - $n pods unscheduled with no FailedScheduling event in 10m | stalled_pods=$n"
  echo "$stalled"
  exit 2
fi
echo "OK - no stalled pods | stalled_pods=0"
