#!/bin/bash
set -o pipefail
# check_k8s_leases as a competent sysadmin writes it: both control-plane
# Leases in one kubectl, their holders' nodes in another. CRITICAL when a
# lease expired or its holder's node is not Ready, WARNING when
# leaseDurationSeconds > 20.
# Usage: leases.sh KUBECONFIG
K=(--kubeconfig "$1" --request-timeout 20s)
now=$(date +%s)
leases=$(kubectl "${K[@]}" -n kube-system get lease kube-scheduler kube-controller-manager -o json | jq -r --argjson now "$now" '
  .items[] | [.metadata.name, (.spec.holderIdentity // "none" | split("_")[0]),
    ($now - ((.spec.renewTime // "1970-01-01T00:00:00Z") | sub("\\.[0-9]+Z$"; "Z") | fromdate)), (.spec.leaseDurationSeconds // 0)] | @tsv') || exit 3
[ -n "$leases" ] || { echo "UNKNOWN - no leases"; exit 3; }
ready=$(kubectl "${K[@]}" get node $(cut -f2 <<<"$leases" | sort -u) -o json 2>/dev/null | jq -r '
  (if .kind == "List" then .items[] else . end) | "\(.metadata.name) \(any(.status.conditions[]; .type == "Ready" and .status == "True"))"')
state=0; msg=""
while IFS=$'\t' read -r lease holder age duration; do
  if [ "$age" -gt "$duration" ] || ! grep -qx "$holder true" <<<"$ready"; then
    state=2; msg="$msg $lease: held by $holder, renewed ${age}s ago (${duration}s);"
  elif [ "$duration" -gt 20 ] && [ "$state" -lt 1 ]; then
    state=1; msg="$msg $lease: leaseDurationSeconds $duration > 20;"
  elif [ "$duration" -gt 20 ]; then
    msg="$msg $lease: leaseDurationSeconds $duration > 20;"
  fi
done <<<"$leases"
case $state in
  0) echo "OK - leases renewed";;
  1) echo "WARNING -$msg";;
  *) echo "CRITICAL -$msg";;
esac
exit $state
