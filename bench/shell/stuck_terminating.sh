#!/bin/bash
# check_k8s_stuck_terminating written the usual way: pods whose deletion is
# more than 10 minutes past their grace period.
# Usage: stuck_terminating.sh KUBECONFIG
K=(--kubeconfig "$1")
now=$(date +%s)
stuck=$(kubectl "${K[@]}" get pods -A -o json | jq -r --argjson now "$now" '
  .items[] | select(.metadata.deletionTimestamp != null)
  | select(($now - (.metadata.deletionTimestamp | fromdate)) > 600)
  | "\(.metadata.namespace)/\(.metadata.name) on \(.spec.nodeName // "no node")"')
n=$(grep -c . <<<"$stuck")
if [ "$n" -ge 5 ]; then echo "CRITICAL - $n pods stuck Terminating | stuck_pods=$n"; echo "$stuck"; exit 2; fi
if [ "$n" -ge 1 ]; then echo "WARNING - $n pods stuck Terminating | stuck_pods=$n"; echo "$stuck"; exit 1; fi
echo "OK - no pods stuck Terminating | stuck_pods=0"
