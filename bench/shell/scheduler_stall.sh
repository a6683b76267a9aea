#!/bin/bash
# check_k8s_scheduler_stall written the usual way: Pending pods with no node,
# older than 5 minutes, that the scheduler never tried: no PodScheduled=False
# condition (Unschedulable, SchedulerError) and no FailedScheduling event in 10 minutes.
# Server-side field selectors: the cost follows what is Pending.
# Usage: scheduler_stall.sh KUBECONFIG
set -o pipefail
K=(--kubeconfig "$1")
fail() { echo "UNKNOWN - kubectl failed"; exit 3; }
now=$(date +%s)
DEFS='def ts: if . == null then 0 else sub("\\.[0-9]+Z$"; "Z") | fromdate end;
      def seen: (.series.lastObservedTime // .lastTimestamp // .eventTime) | ts;'
pending=$(kubectl "${K[@]}" get pods -A --field-selector status.phase=Pending,spec.nodeName= -o json) || fail
[ "$(jq '.items | length' <<<"$pending")" -gt 0 ] || { echo "OK - no stalled pods | stalled_pods=0"; exit 0; }
failed=$(kubectl "${K[@]}" get events -A --field-selector involvedObject.kind=Pod,reason=FailedScheduling -o json | jq -r --argjson now "$now" "$DEFS"'
  .items[] | select(seen > $now - 600) | .involvedObject.namespace + "/" + .involvedObject.name' | sort -u) || fail
stalled=$(jq -r --argjson now "$now" --arg failed "$failed" "$DEFS"'
  ($failed | split("\n") | map({(.): true}) | add // {}) as $f
  | .items[] | select((.spec.schedulingGates // []) == [] and (.metadata.creationTimestamp | ts) < $now - 300
                      and ([.status.conditions[]? | select(.type == "PodScheduled" and .status == "False" and ((.reason // "") | . != "" and . != "SchedulingGated"))] == []))
  | .metadata.namespace + "/" + .metadata.name | select($f[.] | not)' <<<"$pending")
n=$(grep -c . <<<"$stalled")
if [ "$n" -gt 0 ]; then
  echo "CRITICAL - $n pods unscheduled, never tried (no PodScheduled condition, no FailedScheduling event in 10m) | stalled_pods=$n"
  echo "$stalled"
  exit 2
fi
echo "OK - no stalled pods | stalled_pods=0"
