#!/bin/bash
set -o pipefail
# check_k8s_stuck_terminating --node NODE as a competent sysadmin writes it:
# this node's pods (server-side spec.nodeName), those whose deletionTimestamp
# (already the deadline: delete time + grace) is more than 10m past.
# WARNING on one, CRITICAL on more than 5 or on one stuck for an hour.
# Usage: stuck_terminating.sh KUBECONFIG NODE
K=(--kubeconfig "$1" --request-timeout 20s); node=$2
now=$(date +%s)
counts=$(kubectl "${K[@]}" get pods -A --field-selector "spec.nodeName=$node" -o json | jq -r --argjson now "$now" '
  [.items[] | select(.metadata.deletionTimestamp != null) | $now - (.metadata.deletionTimestamp | fromdate) | select(. > 600)]
  | "\(length) \(max // 0)"') || exit 3
read -r n oldest <<<"$counts"
[ -n "$n" ] || { echo "UNKNOWN - kubectl failed"; exit 3; }
if [ "$n" -gt 5 ] || [ "$oldest" -ge 3600 ]; then echo "CRITICAL - $n pods stuck Terminating on $node, oldest ${oldest}s | stuck_pods=$n"; exit 2; fi
if [ "$n" -gt 0 ]; then echo "WARNING - $n pods stuck Terminating on $node | stuck_pods=$n"; exit 1; fi
echo "OK - no pods stuck Terminating on $node | stuck_pods=0"
