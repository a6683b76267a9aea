#!/bin/bash
# check_k8s_reboot_ready written the usual way: may NODE be rebooted now?
# Every other node Ready, no PodDisruptionBudget at zero allowed disruptions
# covering a pod on NODE, no pod stuck Terminating, nothing unscheduled.
# Usage: reboot_ready.sh KUBECONFIG NODE
K=(--kubeconfig "$1"); node=$2
now=$(date +%s)
reasons=""
notready=$(kubectl "${K[@]}" get nodes -o json | jq -r --arg node "$node" '
  .items[] | select(.metadata.name != $node)
  | select((any(.status.conditions[]; .type == "Ready" and .status == "True") | not) or .spec.unschedulable == true) | .metadata.name')
[ -n "$notready" ] && reasons="$reasons nodes not ready: $(echo $notready);"
pods=$(kubectl "${K[@]}" get pods -A -o json)
stuck=$(jq -r --argjson now "$now" '.items[] | select(.metadata.deletionTimestamp != null and ($now - (.metadata.deletionTimestamp | fromdate)) > 600) | .metadata.name' <<<"$pods" | wc -l)
[ "$stuck" -gt 0 ] && reasons="$reasons $stuck pods stuck Terminating;"
pending=$(jq -r '.items[] | select(.status.phase == "Pending" and .spec.nodeName == null) | .metadata.name' <<<"$pods" | wc -l)
[ "$pending" -gt 0 ] && reasons="$reasons $pending pods unscheduled;"
here=$(jq -c --arg node "$node" '[.items[] | select(.spec.nodeName == $node and .status.phase != "Succeeded" and .status.phase != "Failed")
  | {ns: .metadata.namespace, labels: (.metadata.labels // {})}]' <<<"$pods")
blocked=$(kubectl "${K[@]}" get pdb -A -o json | jq -r --argjson here "$here" '
  .items[] | select(.status.disruptionsAllowed == 0) | . as $pdb
  | select(any($here[]; .ns == $pdb.metadata.namespace and (.labels | contains($pdb.spec.selector.matchLabels // {}))))
  | .metadata.namespace + "/" + .metadata.name')
[ -n "$blocked" ] && reasons="$reasons PDBs at 0 allowed disruptions: $(echo $blocked);"
if [ -n "$reasons" ]; then echo "CRITICAL - do not reboot $node:$reasons"; exit 2; fi
echo "OK - $node can be rebooted"
