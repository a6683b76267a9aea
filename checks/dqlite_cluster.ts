import fs from 'node:fs';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import {
  DEFAULT_BACKEND_DIR,
  SNAP_DQLITE,
  parseClusterJson,
  readBackend,
  runShell,
  shellArgs,
  showAddress,
  type Member,
  type ShellAnswer,
} from '../lib/host/dqlite.js';
import { mapBounded } from '../lib/kube/parallel.js';
import { UsageError } from '../lib/plugin/errors.js';
import { Report } from '../lib/plugin/report.js';
import { plural } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State } from '../lib/plugin/state.js';

/** One member asked directly (`.describe ADDRESS`): did it answer the dqlite protocol in time? */
export interface Probe {
  address: string;
  ok: boolean;
  /** Why not: the shell's error ('connection refused') or 'no answer within 4s'. */
  reason?: string;
  ms: number;
}

export interface Data {
  backendDir: string;
  /** cluster.crt and cluster.key were given to the shell. */
  tls: boolean;
  /** This node per info.yaml. */
  self?: Member;
  /** Members per cluster.yaml (this node's last saved view). */
  stored: Member[];
  /** `.leader` through cluster.yaml: from this node to whichever member leads. */
  leader: ShellAnswer;
  /** `.cluster` from the leader: the live membership and roles. */
  live?: Member[];
  liveError?: string;
  probes: Probe[];
}

const options = {
  'backend-dir': opt.string({
    placeholder: 'DIR', default: DEFAULT_BACKEND_DIR,
    describe: 'k8s-dqlite\'s data directory: cluster.yaml, info.yaml, cluster.crt, cluster.key',
  }),
  dqlite: opt.string({
    placeholder: 'PATH', default: SNAP_DQLITE,
    describe: 'The dqlite shell (microk8s ships a static one in the snap; Debian\'s go-dqlite package has /usr/bin/dqlite)',
  }),
  'query-timeout': opt.duration({
    default: '4s', min: 0.1, max: 60,
    describe: 'Time each dqlite shell query may take (microk8s\'s own tooling waits 4s); must be less than -t',
  }),
};
type Options = OptionsOf<typeof options>;

/** Parallel shell processes at most: members are few (microk8s: 3 voters, a few standbys). */
const PROBE_CONCURRENCY = 8;
// Where the microk8s snap lives: without it there is no k8s-dqlite to ask.
const MICROK8S_SNAP = ['/snap/microk8s', '/var/snap/microk8s'];

const ms = (n: number) => `${Math.round(n)} ms`;

/** The leader's address from `.leader`, or why there is none. */
export function leaderOf(a: ShellAnswer): { address?: string; why?: string } {
  if (!a.ok) return { why: a.timedOut ? `${a.reason} (none elected, or none reachable from this node)` : a.reason };
  const address = a.stdout.trim();
  return address ? { address } : { why: 'the cluster reports no leader' };
}

/** A TLS failure the shell reported: our certificate, not the cluster, is the problem. */
const TLS_ERROR = /\btls:|x509:|certificate/i;

export function evaluateCluster(d: Data, o: Pick<Options, 'queryTimeout' | 'warning' | 'critical' | 'verbose'>): ReturnType<Report['done']> {
  const r = new Report();
  // A problem no evidence line below states: its short text is its long-output line too (and gives the state).
  const problem = (state: State, short: string) => r.problem(state, short, short);
  const members = d.live ?? d.stored;
  const source = d.live ? 'the leader' : 'cluster.yaml';
  const voters = members.filter((m) => m.role === 'voter');
  const quorum = Math.floor(voters.length / 2) + 1;
  const probed = new Map(d.probes.map((p) => [p.address, p]));
  const reachable = (m: Member) => probed.get(m.address)?.ok === true;
  const reachableVoters = voters.filter(reachable);
  const unreachable = members.filter((m) => !reachable(m));
  const leader = leaderOf(d.leader);
  const self = d.self ? members.find((m) => m.address === d.self!.address || (m.id !== '' && m.id === d.self!.id)) : undefined;

  // Nothing answered and the shell said why in TLS words: the check cannot talk to dqlite, the cluster may be fine.
  const failures = [...d.probes.filter((p) => !p.ok).map((p) => p.reason ?? ''), ...(d.leader.ok ? [] : [d.leader.reason])];
  const tlsBroken = !d.probes.some((p) => p.ok) && !d.leader.ok && failures.length > 0 && failures.every((f) => TLS_ERROR.test(f));
  // What an unreachable member means here: nothing (TLS is ours), quorum lost, or one member down.
  const downState = tlsBroken ? State.UNKNOWN : reachableVoters.length < quorum ? State.CRITICAL : State.WARNING;
  if (tlsBroken) {
    r.action(State.UNKNOWN, `the check cannot read ${sanitize(d.backendDir, 120)}/cluster.crt and cluster.key as this user, or they no longer match the cluster: ` +
      'add the nagios user to group microk8s (README.Debian) or compare them with another node\'s; the cluster itself may be fine (check_k8s_apiserver)');
    problem(State.UNKNOWN, `the dqlite shell cannot talk TLS to any member (${sanitize(d.leader.ok ? failures[0]! : d.leader.reason, 160)}); ` +
      `it uses ${sanitize(d.backendDir, 120)}/cluster.crt and cluster.key`);
  } else {
    if (!leader.address) problem(State.CRITICAL, `no dqlite leader: ${sanitize(leader.why ?? '', 160)}`);
    if (!leader.address || (voters.length && reachableVoters.length < quorum) || !voters.length) {
      const down = voters.filter((m) => !reachable(m)).map((m) => showAddress(m.address));
      r.action(State.CRITICAL, `bring the voters back${down.length ? ` (${down.join(', ')})` : ''}: on each, sudo snap start microk8s and journalctl -u snap.microk8s.daemon-k8s-dqlite; ` +
        `a quorum of ${quorum} must answer before the API works again; do not remove members while the cluster has no leader; check again`);
    }
    if (voters.length === 0) {
      problem(State.CRITICAL, `no voters among ${plural(members.length, 'member')} (${source})`);
    } else if (reachableVoters.length < quorum) {
      problem(State.CRITICAL, `no quorum: ${reachableVoters.length} of ${plural(voters.length, 'voter')} reachable, ${quorum} needed`);
    }
    if (unreachable.length) {
      r.action(downState, `on ${showAddress(unreachable[0]!.address)}: sudo snap services microk8s and journalctl -u snap.microk8s.daemon-k8s-dqlite --since -15m; ` +
        'a node removed for good: sudo microk8s leave on it, microk8s remove-node on another; check again');
      r.problem(downState, `${unreachable.length} of ${plural(members.length, 'member')} unreachable: ` +
        unreachable.map((m) => `${showAddress(m.address)} (${m.role})`).join(', '));
    }
    if (members.length >= 3 && voters.length < 3) {
      r.action(State.WARNING, 'dqlite promotes a spare member to voter by itself when it can: see which members are reachable (this check\'s long output) and bring the missing ones back');
      problem(State.WARNING, `only ${plural(voters.length, 'voter')} in a cluster of ${members.length} members: one more loss stops the datastore`);
    }
    if (d.self && !self) {
      r.action(State.WARNING, `this node's info.yaml names ${showAddress(d.self.address)}, which the cluster does not list: re-join it (sudo microk8s join ...) or check --backend-dir`);
      problem(State.WARNING, `this node (${showAddress(d.self.address)}, info.yaml) is not a member per ${source}`);
    }
  }

  // Long output: one line per member, in the cluster's order.
  for (const m of members) {
    const p = probed.get(m.address);
    const tags = [m.role, ...(m.address === leader.address ? ['leader'] : []), ...(m === self ? ['this node'] : [])].join(', ');
    const answer = !p ? 'not asked' : p.ok ? `answered in ${ms(p.ms)}` : `unreachable: ${sanitize(p.reason ?? '', 160)}`;
    r.add(p?.ok ? State.OK : downState, `${showAddress(m.address)} (${tags}): ${answer}`);
  }
  if (!d.live) r.info(`live membership unavailable (.cluster: ${sanitize(d.liveError ?? 'not asked', 160)}): members and roles from cluster.yaml`);
  else {
    const key = (m: Member) => `${m.address} ${m.role}`;
    const stale = d.stored.map(key).sort().join(',') !== d.live.map(key).sort().join(',');
    if (stale) r.info(`cluster.yaml (this node's saved view) differs from the leader's: ${d.stored.map((m) => `${showAddress(m.address)} ${m.role}`).join(', ') || 'empty'}`);
  }
  if (d.self && self && d.self.role !== self.role) r.info(`info.yaml says this node joined as ${d.self.role}; it is now ${self.role}`);
  r.info(`queried with ${d.tls ? 'TLS (cluster.crt, cluster.key)' : 'no TLS (no cluster.crt/cluster.key in the backend directory)'}, ` +
    `each query at most ${o.queryTimeout}s`);

  perf.metric(r, 'voters', voters.length, o, { min: 0 });
  perf.metric(r, 'reachable_voters', reachableVoters.length, o, { min: 0, max: voters.length });
  perf.metric(r, 'members', members.length, o, { min: 0 });
  const latency = d.leader.ok ? d.leader.ms / 1000 : undefined;
  if (latency !== undefined) {
    const j = perf.judge(r, 'leader_latency', Number(latency.toFixed(3)), o, { min: 0 });
    if (j.state !== State.OK) problem(j.state, `leader query took ${latency.toFixed(2)}s (${j.hint})`);
  } else {
    perf.metric(r, 'leader_latency', undefined, o, { min: 0 });
  }

  const selfText = self
    ? `this node ${showAddress(self.address)} is a ${self.role}${leader.address ? (self.address === leader.address ? ' and the leader' : ', reaches the leader') : ''}`
    : d.self ? '' : 'this node\'s identity unknown (no info.yaml)';
  return r.done(`leader ${showAddress(leader.address ?? '?')}, ${reachableVoters.length} of ${plural(voters.length, 'voter')} reachable` +
    `${members.length > voters.length ? `, ${members.length} members` : ''}${selfText ? `; ${selfText}` : ''}`);
}

const perf = declareMetrics({
  voters: { describe: 'Voting members (role 0)' },
  reachable_voters: { describe: 'Voters that answered a direct request from this node' },
  members: { describe: 'Members: voters, standbys (role 1) and spares (role 2)' },
  leader_latency: { describe: 'Seconds the dqlite shell took to find the leader and ask it who leads (U when it failed)', judge: range('warning', 'critical'), uom: 's' },
});

export default defineCheck({
  name: 'dqlite_cluster',
  title: 'DQLITE CLUSTER',
  scope: 'node',
  nrpe: {
    args: '-t 20 --query-timeout 5s',
    kubeconfig: false,
    about:
      'The dqlite cluster itself, asked from this node with the snap\'s dqlite shell: a leader, a quorum\n' +
      'of voters reachable (CRITICAL), every member reachable and 3+ voters (WARNING). Reads\n' +
      '/var/snap/microk8s/current/var/kubernetes/backend (root:microk8s, group-readable: see\n' +
      '/usr/share/doc/k8s-nrpe/README.Debian). The alert for the datastore; check_k8s_dqlite explains it.',
  },
  summary: 'The k8s-dqlite cluster as dqlite reports it: leader, quorum of voters, each member reachable from this node',
  description:
    'State of the dqlite cluster behind k8s-dqlite, from this node, as dqlite itself reports it (check_k8s_dqlite reads ' +
    'the journal for the errors a broken cluster causes; this check asks the cluster). Reads the members and roles ' +
    'this node saved in --backend-dir/cluster.yaml and its own identity from info.yaml, then runs the dqlite shell as ' +
    'microk8s does (-s file://BACKEND/cluster.yaml -c cluster.crt -k cluster.key -f json k8s): ".leader" (this node ' +
    'reaching the leader; its time is leader_latency), ".cluster" (the live members and roles, from the leader) and, ' +
    'for every member, ".describe ADDRESS", a request to that member alone: a member is reachable when it answers it ' +
    'within --query-timeout. CRITICAL when no leader answers or fewer than a quorum (more than half) of the voters are ' +
    'reachable; WARNING when a member is unreachable, when a cluster of 3 or more members has fewer than 3 voters, or ' +
    'when this node is not a member. The user running it must read the backend directory: microk8s makes it ' +
    'root:microk8s, group-readable (see docs/security.md).',
  thresholds: { describe: 'seconds the .leader query took, process start included (default: unset)' },
  options,
  perfdata: perf.docs,
  examples: [
    ['$0', 'the NRPE default: /var/snap/microk8s/current/var/kubernetes/backend with the snap\'s dqlite shell'],
    ['$0 --dqlite /usr/bin/dqlite --backend-dir /srv/dqlite -w 1', 'another layout; warn when finding the leader takes over 1s'],
  ],
  triage: {
    skip: () => (MICROK8S_SNAP.some((p) => fs.existsSync(p)) ? undefined : 'not a microk8s node (no /snap/microk8s)'),
  },

  validate(o) {
    if (o.queryTimeout >= o.timeout) {
      throw new UsageError(`--query-timeout ${o.queryTimeout}s must be less than -t ${o.timeout}s`);
    }
  },

  async gather(ctx, o): Promise<Data> {
    const b = readBackend(o.backendDir);
    const shell = { dqlite: o.dqlite, signal: ctx.signal, timeoutMs: o.queryTimeout * 1000, log: ctx.log };
    const store = `file://${b.clusterYaml}`;
    const probe = async (address: string): Promise<Probe> => {
      const a = await runShell(shellArgs(address, b.tls, `.describe ${address}`), shell);
      return a.ok ? { address, ok: true, ms: a.ms } : { address, ok: false, reason: a.reason, ms: a.ms };
    };
    // All at once: a dead member costs one query timeout, not one each.
    const storedAddresses = [...new Set(b.stored.map((m) => m.address))];
    const [leader, cluster, probes] = await Promise.all([
      runShell(shellArgs(store, b.tls, '.leader'), shell),
      runShell(shellArgs(store, b.tls, '.cluster'), shell),
      mapBounded(storedAddresses, PROBE_CONCURRENCY, probe),
    ]);
    let live: Member[] | undefined;
    let liveError: string | undefined;
    if (cluster.ok) {
      try {
        live = parseClusterJson(cluster.stdout);
      } catch (e) {
        liveError = `unexpected output: ${(e as Error).message}`;
      }
    } else {
      liveError = cluster.reason;
    }
    // Members the leader knows and cluster.yaml does not yet: ask them too.
    const extra = (live ?? []).map((m) => m.address).filter((a) => !storedAddresses.includes(a));
    probes.push(...await mapBounded([...new Set(extra)], PROBE_CONCURRENCY, probe));
    return { backendDir: b.dir, tls: !!b.tls, self: b.self, stored: b.stored, leader, live, liveError, probes };
  },

  evaluate(d, o) {
    return evaluateCluster(d, o);
  },
});
