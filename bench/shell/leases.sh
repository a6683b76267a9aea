#!/bin/bash
# check_k8s_leases written the usual way: each control-plane Lease renewed in
# time, its holder node Ready, its duration short enough for a quick failover.
# Usage: leases.sh KUBECONFIG
K=(--kubeconfig "$1")
now=$(date +%s)
state=0; msg=""
for lease in kube-scheduler kube-controller-manager; do
  read -r holder age duration < <(kubectl "${K[@]}" -n kube-system get lease "$lease" -o json | jq -r --argjson now "$now" '
    [(.spec.holderIdentity // "none" | split("_")[0]),
     ($now - (.spec.renewTime | sub("\\.[0-9]+Z$"; "Z") | fromdate)),
     .spec.leaseDurationSeconds] | @tsv')
  ready=$(kubectl "${K[@]}" get node "$holder" -o json 2>/dev/null | jq -r '.status.conditions[] | select(.type == "Ready") | .status')
  if [ -z "$duration" ] || [ "$age" -gt "$duration" ] || [ "$ready" != True ]; then
    state=2; msg="$msg $lease: held by $holder (Ready=$ready), renewed ${age}s ago;"
  elif [ "$duration" -gt 20 ] && [ "$state" -lt 1 ]; then
    state=1; msg="$msg $lease: leaseDurationSeconds $duration > 20;"
  fi
done
case $state in
  0) echo "OK - leases renewed";;
  1) echo "WARNING -$msg";;
  *) echo "CRITICAL -$msg";;
esac
exit $state
