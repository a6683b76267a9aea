// Which dataplane does Service NAT on this host, from what each one leaves
// behind. kube-proxy (iptables or nftables mode) writes KUBE-SERVICES / the
// kube-proxy nftables table; Calico's eBPF dataplane (Felix bpfEnabled) and
// Cilium's kube-proxy replacement translate Services in BPF programs and pin
// their maps under the BPF filesystem instead. On microk8s kube-proxy runs
// inside kubelite, so the absence of kube-proxy pods says nothing.
import fs from 'node:fs/promises';

export type Dataplane = 'iptables' | 'nftables' | 'calico-ebpf' | 'cilium';

/** Where tc BPF programs pin their global maps (Calico's and Cilium's alike). */
export const BPF_GLOBALS = '/sys/fs/bpf/tc/globals';

export interface BpfPins {
  /** Felix's BPF NAT frontend map (cali_v4_nat_fe3 and earlier versions), if pinned. */
  calicoNat?: string;
  /** Cilium's Service map, if pinned. */
  ciliumServices?: string;
  /** Why the directory could not be listed (EACCES without root); undefined when it could, or does not exist. */
  unreadable?: string;
}

const CALICO_NAT_FE = /^cali_v4_nat_fe\d*$/;
const CILIUM_SERVICES = 'cilium_lb4_services_v2';

/** The pinned maps that name an eBPF Service dataplane. A missing directory means none. */
export async function readBpfPins(dir = BPF_GLOBALS): Promise<BpfPins> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? {} : { unreadable: `${dir}: ${code ?? (e as Error).message}` };
  }
  return { calicoNat: names.find((n) => CALICO_NAT_FE.test(n)), ciliumServices: names.find((n) => n === CILIUM_SERVICES) };
}

/** The env of a pod's containers as the API returns it (only literal values count). */
interface PodWithEnv {
  spec?: { containers?: { name?: string; env?: { name?: string; value?: string }[] }[] };
}

/**
 * Felix's BPF mode as calico-node's manifest sets it: FELIX_BPFENABLED on the
 * container (environment overrides FelixConfiguration's bpfEnabled).
 * undefined when the manifest does not say.
 */
export function felixBpfEnabled(pod: PodWithEnv | undefined, container = 'calico-node'): boolean | undefined {
  const v = felixEnv(pod, container, 'FELIX_BPFENABLED');
  return v === undefined ? undefined : /^(true|1|yes)$/i.test(v.trim());
}

/** A literal env value of a pod's container (Felix reads FELIX_<PARAM>, case-insensitively). */
export function felixEnv(pod: PodWithEnv | undefined, container: string, name: string): string | undefined {
  const env = pod?.spec?.containers?.find((c) => c.name === container)?.env ?? [];
  return env.find((e) => e.name?.toUpperCase() === name)?.value;
}

/** An eBPF dataplane that translates Services instead of kube-proxy, and what showed it. */
export interface EbpfDataplane {
  dataplane: 'calico-ebpf' | 'cilium';
  evidence: string;
}

/**
 * Who does Service NAT on this node when it is not kube-proxy: `choice` is
 * --dataplane (auto: from calico-node's FELIX_BPFENABLED, else the pinned
 * maps); undefined: kube-proxy, whose tables are judged.
 */
export function ebpfDataplane(
  choice: 'auto' | Dataplane,
  seen: { pod: PodWithEnv | undefined; container: string; bpf: BpfPins | undefined; kubeProxyRules: boolean },
): EbpfDataplane | undefined {
  if (choice === 'calico-ebpf' || choice === 'cilium') return { dataplane: choice, evidence: `--dataplane ${choice}` };
  if (choice !== 'auto') return undefined;
  if (felixBpfEnabled(seen.pod, seen.container)) return { dataplane: 'calico-ebpf', evidence: 'calico-node has FELIX_BPFENABLED=true' };
  // Pinned maps outlive a switch back to iptables: without kube-proxy rules they are the explanation, with them they are leftovers.
  if (seen.kubeProxyRules) return undefined;
  if (seen.bpf?.ciliumServices) return { dataplane: 'cilium', evidence: `pinned BPF map ${seen.bpf.ciliumServices}` };
  if (seen.bpf?.calicoNat) return { dataplane: 'calico-ebpf', evidence: `pinned BPF map ${seen.bpf.calicoNat}` };
  return undefined;
}
