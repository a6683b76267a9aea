#!/bin/bash
set -o pipefail
# check_k8s_reboot_ready --node NODE as a competent sysadmin writes it: may
# NODE be rebooted now? Every other node Ready; no pod stuck Terminating on
# it; no pod left unscheduled (server-side status.phase=Pending,spec.nodeName=);
# no PodDisruptionBudget at 0 allowed disruptions covering one of its pods.
# Usage: reboot_ready.sh KUBECONFIG NODE
K=(--kubeconfig "$1" --request-timeout 30s); node=$2
now=$(date +%s)
reasons=""
notready=$(kubectl "${K[@]}" get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.unschedulable} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
  | awk -v node="$node" '$1 != node && ($2 == "true" || $NF != "True") { print $1 }') || exit 3
[ -n "$notready" ] && reasons="$reasons nodes not ready: $(echo $notready);"
here=$(kubectl "${K[@]}" get pods -A --field-selector "spec.nodeName=$node,status.phase!=Succeeded,status.phase!=Failed" -o json) || exit 3
stuck=$(jq --argjson now "$now" '[.items[] | select(.metadata.deletionTimestamp != null and ($now - (.metadata.deletionTimestamp | fromdate)) > 600)] | length' <<<"$here")
[ "$stuck" -gt 0 ] && reasons="$reasons $stuck pods stuck Terminating;"
pending=$(kubectl "${K[@]}" get pods -A --field-selector status.phase=Pending,spec.nodeName= -o name | grep -c .)
[ "$pending" -gt 0 ] && reasons="$reasons $pending pods unscheduled;"
labels=$(jq -c '[.items[] | {ns: .metadata.namespace, labels: (.metadata.labels // {})}]' <<<"$here")
blocked=$(kubectl "${K[@]}" get pdb -A -o json | jq -r --argjson here "$labels" '
  .items[] | select(.status.disruptionsAllowed == 0) | . as $pdb
  | select(any($here[]; .ns == $pdb.metadata.namespace and (.labels | contains($pdb.spec.selector.matchLabels // {}))))
  | .metadata.namespace + "/" + .metadata.name')
[ -n "$blocked" ] && reasons="$reasons PDBs at 0 allowed disruptions: $(echo $blocked);"
if [ -n "$reasons" ]; then echo "CRITICAL - do not reboot $node:$reasons"; exit 2; fi
echo "OK - $node can be rebooted"
