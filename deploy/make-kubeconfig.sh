#!/bin/sh
# Write the kubeconfig the NRPE checks use, /etc/nagios/k8s-nrpe.kubeconfig
# (mode 0640, root:nagios), for the read-only k8s-nrpe ServiceAccount of
# rbac.yaml. Run it as root on each node, after `kubectl apply -f rbac.yaml`.
#
# The API server URL and its CA come from the kubeconfig kubectl uses now (on
# microk8s: `microk8s kubectl`, i.e. client.config); the credential is the
# ServiceAccount's token. The admin credentials are never copied.
set -eu

usage() {
    cat <<'EOF'
Usage: make-kubeconfig.sh [options]
  -o, --output FILE   where to write (default /etc/nagios/k8s-nrpe.kubeconfig)
  --context NAME      read server and CA from this context (default: the current one)
  --server URL        API server URL for the checks (default: the context's server)
  --namespace NS      namespace of the k8s-nrpe ServiceAccount (default kube-system)
  --duration D        use a TokenRequest token that expires after D (e.g. 8760h)
                      instead of the long-lived k8s-nrpe-token Secret
  --group GROUP       group that may read the file (default nagios)
  -h, --help
Environment: KUBECTL, the kubectl command (default: "microk8s kubectl" when
microk8s is installed, else kubectl).
EOF
}

die() { echo "make-kubeconfig.sh: $*" >&2; exit 1; }
# rbac.yaml is installed beside this script (/usr/share/k8s-nrpe/), and is deploy/rbac.yaml in the source.
rbac="$(dirname "$0")/rbac.yaml"

out=/etc/nagios/k8s-nrpe.kubeconfig
context=
server=
namespace=kube-system
duration=
group=nagios
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--output) out=${2:?}; shift 2 ;;
        --context) context=${2:?}; shift 2 ;;
        --server) server=${2:?}; shift 2 ;;
        --namespace) namespace=${2:?}; shift 2 ;;
        --duration) duration=${2:?}; shift 2 ;;
        --group) group=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

if [ -z "${KUBECTL:-}" ]; then
    if command -v microk8s >/dev/null 2>&1; then KUBECTL="microk8s kubectl"
    elif command -v kubectl >/dev/null 2>&1; then KUBECTL=kubectl
    else die "neither microk8s nor kubectl found: set KUBECTL"
    fi
fi
# KUBECTL may be a command with arguments ("microk8s kubectl"): split on purpose.
# shellcheck disable=SC2086
k() { $KUBECTL "$@"; }

view() {
    if [ -n "$context" ]; then k config view --raw --minify --context "$context" -o "jsonpath=$1"
    else k config view --raw --minify -o "jsonpath=$1"
    fi
}

[ -n "$server" ] || server=$(view '{.clusters[0].cluster.server}')
case "$server" in
    https://*) ;;
    *) die "API server URL '$server' is not https:// (use --server)" ;;
esac

ca=$(view '{.clusters[0].cluster.certificate-authority-data}')
if [ -z "$ca" ]; then
    ca_file=$(view '{.clusters[0].cluster.certificate-authority}')
    [ -n "$ca_file" ] || die "the current kubeconfig names no cluster CA: the checks will not skip TLS verification"
    [ -r "$ca_file" ] || die "cannot read the cluster CA $ca_file"
    ca=$(base64 < "$ca_file" | tr -d '\n')
fi
printf '%s' "$ca" | base64 -d 2>/dev/null | grep -q 'BEGIN CERTIFICATE' || die "the cluster CA is not a base64 PEM certificate"

k -n "$namespace" get serviceaccount k8s-nrpe >/dev/null \
    || die "no ServiceAccount $namespace/k8s-nrpe: apply rbac.yaml first ($KUBECTL apply -f $rbac)"

if [ -n "$duration" ]; then
    token=$(k -n "$namespace" create token k8s-nrpe --duration "$duration")
else
    # The token controller fills the Secret a moment after it is created.
    token=
    i=0
    while [ $i -lt 30 ]; do
        token=$(k -n "$namespace" get secret k8s-nrpe-token -o 'jsonpath={.data.token}' 2>/dev/null || true)
        [ -n "$token" ] && break
        i=$((i + 1))
        sleep 1
    done
    [ -n "$token" ] || die "Secret $namespace/k8s-nrpe-token has no token: apply rbac.yaml, or use --duration"
    token=$(printf '%s' "$token" | base64 -d)
fi
case "$token" in
    *[!A-Za-z0-9._-]*|'') die "the ServiceAccount token does not look like a token" ;;
esac

dir=$(dirname "$out")
[ -d "$dir" ] || die "$dir does not exist: install nagios-nrpe-server first, or write elsewhere with -o FILE"
[ -w "$dir" ] || die "cannot write to $dir as $(id -un): run it as root (sudo $0)"
umask 077
tmp=$(mktemp "$dir/.k8s-nrpe.kubeconfig.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cat > "$tmp" <<EOF
# Written by make-kubeconfig.sh for the k8s-nrpe checks: the read-only
# ServiceAccount $namespace/k8s-nrpe (deploy/rbac.yaml). Mode 0640 root:$group.
apiVersion: v1
kind: Config
clusters:
  - name: k8s-nrpe
    cluster:
      server: "$server"
      certificate-authority-data: $ca
users:
  - name: k8s-nrpe
    user:
      token: $token
contexts:
  - name: k8s-nrpe
    context:
      cluster: k8s-nrpe
      user: k8s-nrpe
current-context: k8s-nrpe
EOF
if [ "$(id -u)" = 0 ]; then
    getent group "$group" >/dev/null || die "no group $group (install nagios-nrpe-server first, or use --group)"
    chown "root:$group" "$tmp"
else
    chgrp "$group" "$tmp" 2>/dev/null || echo "make-kubeconfig.sh: not root: $out is not group $group" >&2
fi
chmod 0640 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT

# The new credential must be able to do what the checks do.
if [ "$(k --kubeconfig "$out" auth can-i list pods --all-namespaces 2>/dev/null || true)" != yes ]; then
    die "wrote $out, but its token cannot list pods: check rbac.yaml is applied and --server is reachable"
fi
echo "wrote $out (server $server, ServiceAccount $namespace/k8s-nrpe)"
