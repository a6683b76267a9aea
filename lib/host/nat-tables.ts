// This host's Service NAT tables as kube-proxy wrote them: which dumps to run
// (each backend by name, through sudo when asked), their parsed rules, and
// the Service portals they hold. check_k8s_calico_nat judges them.
import { firstLine } from './command.js';
import { exactDestination, parseChainRules, parseIptablesSave, ruleComment, ruleCount, IptablesParseError, type IptablesSave, type Table } from './iptables.js';
import { kubeProxyServicePortals, parseNftJson, NftParseError, type NftTableDump } from './nft.js';
import { runPrivileged, sudoersLine as sudoersLineFor, type FixedCommand } from './sudo.js';
import { PluginError } from '../plugin/errors.js';
import type { Logger } from '../plugin/log.js';
import { plural } from '../plugin/result.js';
import { sanitize } from '../plugin/sanitize.js';

export type SourceName = 'iptables-nft' | 'iptables-legacy' | 'nftables';
/** Which kube-proxy tables to read. */
export type ProxyMode = 'auto' | 'iptables' | 'nftables';

/** The fixed commands, as packaging/sudoers/k8s-nrpe allows them. */
export const NAT_COMMANDS: Record<SourceName, FixedCommand> = {
  // Each backend by name: /usr/sbin/iptables-save is whichever the alternatives system points at,
  // and kube-proxy (inside kubelite on microk8s) may use the other one.
  'iptables-nft': { file: '/usr/sbin/iptables-nft-save', args: ['-t', 'nat'] },
  // No -t nat: asking for a table makes the kernel create it (module autoload), so on a host
  // without legacy tables `-t nat` would add an empty legacy nat table every run. Without -t it
  // dumps only the tables that exist.
  'iptables-legacy': { file: '/usr/sbin/iptables-legacy-save', args: [] },
  nftables: { file: '/usr/sbin/nft', args: ['-j', 'list', 'table', 'ip', 'kube-proxy'] },
};
const MAX_DUMP_BYTES = 64 * 1024 * 1024;

export function sourcesFor(mode: ProxyMode): SourceName[] {
  if (mode === 'iptables') return ['iptables-nft', 'iptables-legacy'];
  if (mode === 'nftables') return ['nftables'];
  return ['iptables-nft', 'iptables-legacy', 'nftables'];
}

/** The sudoers line that lets `user` run exactly what is read for `mode`. */
export function sudoersLine(user: string, mode: ProxyMode): string {
  return sudoersLineFor(user, sourcesFor(mode).map((s) => NAT_COMMANDS[s]));
}

export interface NatSource {
  name: SourceName;
  /** read: output parsed; missing: tool not installed; absent: no legacy nat table / nft has no table ip kube-proxy. */
  status: 'read' | 'missing' | 'absent';
  save?: IptablesSave;
  nft?: NftTableDump;
}

export interface ReadOptions {
  sudo: boolean;
  signal: AbortSignal;
  log?: Logger;
}

/**
 * Every source of `mode`, read in parallel. When several fail (no root: each
 * needs it) the first in source order is reported, not the first to finish,
 * so the same host gives the same line on every run. None installed: a
 * PluginError that says what to install.
 */
export async function readNatTables(mode: ProxyMode, o: ReadOptions): Promise<NatSource[]> {
  const settled = await Promise.allSettled(sourcesFor(mode).map((s) => readSource(s, mode, o)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const sources = settled.map((r) => (r as PromiseFulfilledResult<NatSource>).value);
  if (sources.every((s) => s.status === 'missing')) {
    const tried = sourcesFor(mode).map((s) => NAT_COMMANDS[s].file).join(', ');
    throw new PluginError(`cannot read the nat table: none of ${tried} is installed (install iptables${mode === 'iptables' ? '' : ' or nftables'})`);
  }
  return sources;
}

async function readSource(name: SourceName, mode: ProxyMode, o: ReadOptions): Promise<NatSource> {
  const cmd = NAT_COMMANDS[name];
  const allowed = sourcesFor(mode).map((s) => NAT_COMMANDS[s]);
  const r = await runPrivileged(cmd, { sudo: o.sudo, signal: o.signal, maxBytes: MAX_DUMP_BYTES, log: o.log, allowed, purpose: 'read the nat table' });
  if (!r) return { name, status: 'missing' };
  const command = [cmd.file, ...cmd.args].join(' ').trim();
  if (r.exitCode !== 0) {
    if (name === 'nftables' && /No such file or directory/i.test(r.stderr)) return { name, status: 'absent' };
    throw new PluginError(`${command} failed: ${firstLine(r.stderr) || `exit status ${r.exitCode}`}`);
  }
  try {
    if (name === 'nftables') return { name, status: 'read', nft: parseNftJson(r.stdout) };
    const save = parseIptablesSave(r.stdout);
    parseChainRules(save.tables.get('nat'), 'KUBE-SERVICES'); // the rules judged: malformed ones fail here
    return { name, status: save.tables.has('nat') ? 'read' : 'absent', save };
  } catch (e) {
    if (e instanceof IptablesParseError || e instanceof NftParseError) {
      throw new PluginError(`cannot parse the output of ${command}: ${sanitize(e.message, 200)}`);
    }
    throw e;
  }
}

/** A Service's (cluster IP, protocol, port): how a rule and the API's Service port are matched. */
export const portalKey = (address: string, protocol: string, port: number) => `${address}|${protocol.toLowerCase()}|${port}`;

export const natTable = (s: NatSource): Table | undefined => s.save?.tables.get('nat');

/** One Service portal kube-proxy programmed: a KUBE-SERVICES rule (iptables) or a service-ips element (nftables). */
export interface Portal {
  key: string;
  source: SourceName;
  target?: string;
  comment?: string;
  /** The rule jumps to a chain that has no rules: no DNAT happens. */
  emptyTarget?: boolean;
}

function portalsOf(s: NatSource): Portal[] {
  const out: Portal[] = [];
  const table = natTable(s);
  const chain = table?.chains.get('KUBE-SERVICES');
  if (chain) {
    for (const r of chain.rules) {
      const d = exactDestination(r);
      if (!d || !r.target) continue;
      const target = table!.chains.get(r.target);
      out.push({ key: portalKey(d.address, d.protocol, d.port), source: s.name, target: r.target, comment: ruleComment(r), emptyTarget: target ? target.rules.length === 0 : false });
    }
  }
  if (s.nft) {
    for (const p of kubeProxyServicePortals(s.nft) ?? []) {
      const target = p.target ? s.nft.chains.get(p.target) : undefined;
      out.push({ key: portalKey(p.address, p.protocol, p.port), source: s.name, target: p.target, comment: p.comment, emptyTarget: target ? target.rules === 0 : false });
    }
  }
  return out;
}

/** What the tables read hold, for judging. */
export interface NatTables {
  /** The sources that hold kube-proxy's Service rules (KUBE-SERVICES or the nftables service-ips map). */
  withKube: NatSource[];
  /** Rules in every nat table read. */
  rules: number;
  /** KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset: per-Service rules are in IPVS. */
  ipvs: boolean;
  portals: Portal[];
  /** Calico's cali-* chains in the iptables nat tables, each once. */
  caliChains: string[];
  /** An iptables nat table was read (Felix's iptables dataplane writes there). */
  iptablesRead: boolean;
  /** Each source and its size, for the operator: 'iptables-nft: 127 nat rules, KUBE-SERVICES'. */
  where: string[];
}

export function natTables(sources: NatSource[]): NatTables {
  const read = sources.filter((s) => s.status === 'read');
  const withKube = read.filter((s) => natTable(s)?.chains.has('KUBE-SERVICES') || (s.nft && kubeProxyServicePortals(s.nft)));
  const where = sources.map((s) => {
    if (s.status === 'missing') return `${s.name}: not installed`;
    if (s.status === 'absent') return `${s.name}: ${s.name === 'nftables' ? 'no table ip kube-proxy' : 'no nat table'}`;
    const n = s.nft ? s.nft.rules : ruleCount(natTable(s));
    const kube = withKube.includes(s) ? (s.nft ? ', service-ips map' : ', KUBE-SERVICES') : '';
    return `${s.name}: ${plural(n, 'nat rule')}${kube}`;
  });
  return {
    withKube,
    rules: read.reduce((n, s) => n + ruleCount(natTable(s)) + (s.nft?.rules ?? 0), 0),
    ipvs: read.some((s) => natTable(s)?.chains.get('KUBE-SERVICES')?.rules.some((x) => x.options.some((y) => y.name === '--match-set' && y.values[0] === 'KUBE-CLUSTER-IP'))),
    portals: read.flatMap(portalsOf),
    caliChains: [...new Set(read.flatMap((s) => [...(natTable(s)?.chains.keys() ?? [])].filter((c) => c.startsWith('cali-'))))],
    iptablesRead: read.some((s) => s.save),
    where,
  };
}
