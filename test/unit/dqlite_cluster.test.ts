import { describe, expect, it } from 'vitest';
import dqliteCluster, { evaluateCluster, leaderOf, type Data, type Probe } from '../../checks/dqlite_cluster.js';
import { parseClusterJson, parseNodeYaml, roleName, shellArgs, type Member } from '../../lib/host/dqlite.js';
import { renderNagios } from '../../lib/plugin/render.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions } from './support.js';

// Recorded from the real binaries (Debian go-dqlite 1.11.5: dqlite-demo nodes
// on loopback, the dqlite shell), the shapes test/integration/dqlite_cluster
// also gets live:
//   cat DATA/cluster.yaml ; cat DATA/info.yaml
//   dqlite -s 127.0.0.1:19001 -f json k8s .cluster
const CLUSTER_YAML = `- Address: 127.0.0.1:19001
  ID: 3297041220608546238
  Role: 0
- Address: 127.0.0.1:19002
  ID: 18061973491984261015
  Role: 0
- Address: 127.0.0.1:19003
  ID: 10676980437763046318
  Role: 0
`;
const INFO_YAML = `Address: 127.0.0.1:19002
ID: 18061973491984261015
Role: 0
`;
const CLUSTER_JSON = `[
\t{
\t\t"ID": 3297041220608546238,
\t\t"Address": "127.0.0.1:19001",
\t\t"Role": 0
\t},
\t{
\t\t"ID": 18061973491984261015,
\t\t"Address": "127.0.0.1:19002",
\t\t"Role": 0
\t},
\t{
\t\t"ID": 10676980437763046318,
\t\t"Address": "127.0.0.1:19003",
\t\t"Role": 0
\t}
]
`;

describe('dqlite node store and shell output', () => {
  it('reads cluster.yaml and info.yaml as the go-dqlite app writes them, IDs digit for digit', () => {
    expect(parseNodeYaml(CLUSTER_YAML)).toEqual([
      { id: '3297041220608546238', address: '127.0.0.1:19001', role: 'voter' },
      { id: '18061973491984261015', address: '127.0.0.1:19002', role: 'voter' },
      { id: '10676980437763046318', address: '127.0.0.1:19003', role: 'voter' },
    ]);
    expect(parseNodeYaml(INFO_YAML)).toEqual([{ id: '18061973491984261015', address: '127.0.0.1:19002', role: 'voter' }]);
    expect(parseNodeYaml('[]\n')).toEqual([]);
    expect(parseNodeYaml('- Address: "10.0.0.5:19001"\n  ID: 7\n  Role: 2\n')[0]).toMatchObject({ address: '10.0.0.5:19001', role: 'spare' });
  });

  it('refuses what is not a node store', () => {
    expect(() => parseNodeYaml('apiVersion: v1\nkind: Config\n')).toThrow(/line 1/);
    expect(() => parseNodeYaml('- ID: 1\n  Role: 0\n')).toThrow(/no Address/);
    expect(() => parseNodeYaml('- Address: a:1\n  ID: x1\n')).toThrow(/non-numeric ID/);
  });

  it('parses .cluster JSON without losing the digits of IDs above 2^53', () => {
    const m = parseClusterJson(CLUSTER_JSON);
    expect(m.map((x) => x.id)).toEqual(['3297041220608546238', '18061973491984261015', '10676980437763046318']);
    expect(m.map((x) => x.role)).toEqual(['voter', 'voter', 'voter']);
    expect(parseClusterJson('[{"ID": 1, "Address": "a:1", "Role": 1}, {"ID": 2, "Address": "b:1", "Role": 2}, {"ID": 3, "Address": "c:1", "Role": 7}]').map((x) => x.role))
      .toEqual(['standby', 'spare', 'unknown']);
    expect(() => parseClusterJson('Error: no leader')).toThrow(/not JSON/);
    expect(() => parseClusterJson('{"ID": 1}')).toThrow(/list/);
  });

  it('maps roles as go-dqlite numbers them', () => {
    expect([0, 1, 2, 3, undefined].map(roleName)).toEqual(['voter', 'standby', 'spare', 'unknown', 'unknown']);
  });

  it('runs the shell with the arguments microk8s uses, TLS only when the files exist', () => {
    expect(shellArgs('file:///b/cluster.yaml', { cert: '/b/cluster.crt', key: '/b/cluster.key' }, '.cluster'))
      .toEqual(['-s', 'file:///b/cluster.yaml', '-c', '/b/cluster.crt', '-k', '/b/cluster.key', '-f', 'json', 'k8s', '.cluster']);
    expect(shellArgs('10.0.0.1:19001', undefined, '.describe 10.0.0.1:19001'))
      .toEqual(['-s', '10.0.0.1:19001', '-f', 'json', 'k8s', '.describe 10.0.0.1:19001']);
  });

  it('reads the leader from .leader, or says why there is none', () => {
    expect(leaderOf({ ok: true, stdout: '127.0.0.1:19001\n', ms: 12 })).toEqual({ address: '127.0.0.1:19001' });
    expect(leaderOf({ ok: true, stdout: '\n', ms: 12 }).why).toMatch(/no leader/);
    expect(leaderOf({ ok: false, reason: 'no answer within 4s', timedOut: true, ms: 4000 }).why).toBe('no answer within 4s (none elected, or none reachable from this node)');
  });
});

const m = (n: number, role: Member['role'] = 'voter'): Member => ({ id: String(1000 + n), address: `10.0.0.${n}:19001`, role });
const up = (n: number, ms = 8): Probe => ({ address: `10.0.0.${n}:19001`, ok: true, ms });
const down = (n: number, reason = 'failed to establish network connection: dial tcp 10.0.0.N:19001: connect: connection refused'): Probe =>
  ({ address: `10.0.0.${n}:19001`, ok: false, reason: reason.replace('N', String(n)), ms: 3 });

function data(over: Partial<Data> = {}): Data {
  const members = [m(1), m(2), m(3)];
  return {
    backendDir: '/var/snap/microk8s/current/var/kubernetes/backend',
    tls: true,
    self: m(2),
    stored: members,
    leader: { ok: true, stdout: '10.0.0.1:19001\n', ms: 23 },
    live: members,
    probes: [up(1), up(2), up(3)],
    ...over,
  };
}

const judge = async (d: Data, ...argv: string[]) => {
  const o = await checkOptions(dqliteCluster, argv);
  const out = evaluateCluster(d, o);
  return { out, state: outcomeState(out), text: renderNagios(out, { title: 'DQLITE CLUSTER', verbose: 1 }) };
};

describe('check_k8s_dqlite_cluster judgement', () => {
  it('OK: a leader, every voter reachable, this node a voter that reaches it', async () => {
    const { state, out, text } = await judge(data());
    expect(state).toBe(State.OK);
    expect(out.summary).toBe('leader 10.0.0.1:19001, 3 of 3 voters reachable; this node 10.0.0.2:19001 is a voter, reaches the leader');
    expect(text).toContain('voters=3;;;0 reachable_voters=3;;;0;3 members=3;;;0 leader_latency=0.023s;;;0');
    expect(text).toContain('10.0.0.1:19001 (voter, leader): answered in 8 ms');
    expect(out.findings.map((f) => f.text)).toEqual([
      '10.0.0.1:19001 (voter, leader): answered in 8 ms',
      '10.0.0.2:19001 (voter, this node): answered in 8 ms',
      '10.0.0.3:19001 (voter): answered in 8 ms',
      'queried with TLS (cluster.crt, cluster.key), each query at most 4s',
    ]);
  });

  it('OK: a single-node microk8s (no HA) is one voter and its own leader, no "fewer than 3 voters" warning', async () => {
    const one = [m(1)];
    const { state, out } = await judge(data({ self: m(1), stored: one, live: one, probes: [up(1)] }));
    expect(state).toBe(State.OK);
    expect(out.summary).toContain('1 of 1 voter reachable; this node 10.0.0.1:19001 is a voter and the leader');
  });

  it('WARNING: one member of three unreachable, quorum kept', async () => {
    const { state, out } = await judge(data({ probes: [up(1), up(2), down(3)] }));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('1 of 3 members unreachable: 10.0.0.3:19001 (voter)');
    expect(out.findings.map((f) => f.text)).toContain('10.0.0.3:19001 (voter): unreachable: failed to establish network connection: dial tcp 10.0.0.3:19001: connect: connection refused');
  });

  it('CRITICAL: two of three voters gone and no leader answering', async () => {
    const { state, out, text } = await judge(data({
      leader: { ok: false, reason: 'no answer within 4s', timedOut: true, ms: 4000 },
      live: undefined, liveError: 'no answer within 4s',
      probes: [down(1), up(2), down(3)],
    }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toMatch(/^no dqlite leader: no answer within 4s \(none elected, or none reachable from this node\); /);
    expect(out.actions?.[0]).toEqual({ state: State.CRITICAL, text: expect.stringMatching(/^bring the voters back \(.+\): on each, sudo snap start microk8s .*do not remove members while the cluster has no leader/) });
    expect(out.summary).toContain('no quorum: 1 of 3 voters reachable, 2 needed');
    expect(text).toContain('leader_latency=U');
    expect(text).toContain('members and roles from cluster.yaml');
  });

  it('CRITICAL: quorum lost even while the old leader still says it leads', async () => {
    const { state, out } = await judge(data({ probes: [up(1), down(2), down(3)] }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toContain('no quorum: 1 of 3 voters reachable, 2 needed');
  });

  it('quorum is more than half the voters: four voters need three, two reachable is no quorum', async () => {
    const four = [m(1), m(2), m(3), m(4)];
    const two = await judge(data({ stored: four, live: four, probes: [up(1), up(2), down(3), down(4)] }));
    expect(two.state).toBe(State.CRITICAL);
    expect(two.out.summary).toContain('no quorum: 2 of 4 voters reachable, 3 needed');
    const three = await judge(data({ stored: four, live: four, probes: [up(1), up(2), up(3), down(4)] }));
    expect(three.state).toBe(State.WARNING);
    expect(three.out.summary).toBe('1 of 4 members unreachable: 10.0.0.4:19001 (voter)');
  });

  it('quorum is more than half the voters: five voters keep it with three, lose it with two', async () => {
    const five = [m(1), m(2), m(3), m(4), m(5)];
    const three = await judge(data({ stored: five, live: five, probes: [up(1), up(2), up(3), down(4), down(5)] }));
    expect(three.state).toBe(State.WARNING);
    expect(three.out.summary).toBe('2 of 5 members unreachable: 10.0.0.4:19001 (voter), 10.0.0.5:19001 (voter)');
    expect(three.text).toContain('reachable_voters=3;;;0;5');
    const two = await judge(data({ stored: five, live: five, probes: [up(1), up(2), down(3), down(4), down(5)] }));
    expect(two.state).toBe(State.CRITICAL);
    expect(two.out.summary).toContain('no quorum: 2 of 5 voters reachable, 3 needed');
    // Members that are down are CRITICAL lines once quorum is gone, WARNING while it holds.
    expect(two.out.findings.find((f) => f.text.startsWith('10.0.0.5:19001'))?.state).toBe(State.CRITICAL);
    expect(three.out.findings.find((f) => f.text.startsWith('10.0.0.5:19001'))?.state).toBe(State.WARNING);
  });

  it('standbys and spares never count toward quorum', async () => {
    const members = [m(1), m(2), m(3), m(4, 'standby'), m(5, 'spare')];
    const { state, out } = await judge(data({ stored: members, live: members, probes: [up(1), down(2), down(3), up(4), up(5)] }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toContain('no quorum: 1 of 3 voters reachable, 2 needed');
  });

  it('a cluster with members but no voter is CRITICAL', async () => {
    const members = [m(1, 'standby'), m(2, 'spare')];
    const { state, out } = await judge(data({ self: m(1, 'standby'), stored: members, live: members, probes: [up(1), up(2)] }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toContain('no voters among 2 members (the leader)');
  });

  it('finds this node by its ID when its address changed, and says when it joined as another role', async () => {
    const { state, out } = await judge(data({ self: { id: '1002', address: '192.168.1.2:19001', role: 'standby' } }));
    expect(state).toBe(State.OK);
    expect(out.summary).toContain('this node 10.0.0.2:19001 is a voter, reaches the leader');
    expect(out.findings.map((f) => f.text)).toContain('info.yaml says this node joined as standby; it is now voter');
    expect(out.findings.map((f) => f.text)).toContain('10.0.0.2:19001 (voter, this node): answered in 8 ms');
  });

  it('without info.yaml the identity is unknown; a timed-out leader query with some members up is not a TLS problem', async () => {
    const { state, out } = await judge(data({ self: undefined, leader: { ok: false, reason: 'no answer within 4s', timedOut: true, ms: 4000 }, live: undefined, liveError: 'no answer within 4s' }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toMatch(/^no dqlite leader: no answer within 4s/);
    const ok = await judge(data({ self: undefined }));
    expect(ok.out.summary).toBe('leader 10.0.0.1:19001, 3 of 3 voters reachable; this node\'s identity unknown (no info.yaml)');
  });

  it('TLS words from only some members are those members\' problem, not the check\'s certificate', async () => {
    const tlsErr = 'remote error: tls: bad certificate';
    const { state, out } = await judge(data({
      leader: { ok: false, reason: tlsErr, timedOut: false, ms: 10 }, live: undefined, liveError: tlsErr,
      probes: [down(1, tlsErr), down(2, tlsErr), down(3)],
    }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toContain('no quorum: 0 of 3 voters reachable, 2 needed');
  });

  it('a member only the leader knows and nobody asked is unreachable ("not asked"); without TLS files it says so', async () => {
    const live = [m(1), m(2), m(3), m(4, 'spare')];
    const { state, out } = await judge(data({ tls: false, live }));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('1 of 4 members unreachable: 10.0.0.4:19001 (spare)');
    const texts = out.findings.map((f) => f.text);
    expect(texts).toContain('10.0.0.4:19001 (spare): not asked');
    expect(texts).toContain('queried with no TLS (no cluster.crt/cluster.key in the backend directory), each query at most 4s');
    const unasked = await judge(data({ live: undefined }));
    expect(unasked.out.findings.map((f) => f.text)).toContain('live membership unavailable (.cluster: not asked): members and roles from cluster.yaml');
  });

  it('TLS errors from the leader query while a member answers are not the check\'s certificate', async () => {
    const tlsErr = 'remote error: tls: bad certificate';
    const { state, out } = await judge(data({
      leader: { ok: false, reason: tlsErr, timedOut: false, ms: 10 }, live: undefined, liveError: tlsErr,
      probes: [up(1), down(2, tlsErr), down(3, tlsErr)],
    }));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toContain('no quorum: 1 of 3 voters reachable, 2 needed');
    expect(out.perfdata.find((p) => p.label === 'leader_latency')).toEqual({ label: 'leader_latency', value: undefined, uom: 's', min: 0, warn: undefined, crit: undefined });
  });

  it('WARNING: exactly three members with two voters', async () => {
    const members = [m(1), m(2), m(3, 'spare')];
    const { state, out } = await judge(data({ stored: members, live: members }));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('only 2 voters in a cluster of 3 members: one more loss stops the datastore');
  });

  it('WARNING: a standby unreachable is a warning, never quorum', async () => {
    const members = [m(1), m(2), m(3), m(4, 'standby')];
    const { state, out } = await judge(data({ stored: members, live: members, probes: [up(1), up(2), up(3), down(4)] }));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('1 of 4 members unreachable: 10.0.0.4:19001 (standby)');
  });

  it('WARNING: fewer than 3 voters in a cluster of 3 or more members', async () => {
    const members = [m(1), m(2), m(3, 'spare'), m(4, 'standby')];
    const { state, out } = await judge(data({ stored: members, live: members, probes: [up(1), up(2), up(3), up(4)] }));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('only 2 voters in a cluster of 4 members: one more loss stops the datastore');
  });

  it('WARNING: this node is not a member any more', async () => {
    const { state, out } = await judge(data({ self: m(9) }));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toContain('this node (10.0.0.9:19001, info.yaml) is not a member per the leader');
  });

  it('UNKNOWN: TLS refused by every member is the check\'s certificate, not the cluster', async () => {
    const tlsErr = 'remote error: tls: bad certificate';
    const { state, out } = await judge(data({
      leader: { ok: false, reason: tlsErr, timedOut: false, ms: 10 }, live: undefined, liveError: tlsErr,
      probes: [down(1, tlsErr), down(2, tlsErr), down(3, tlsErr)],
    }));
    expect(state).toBe(State.UNKNOWN);
    expect(out.summary).toBe('the dqlite shell cannot talk TLS to any member (remote error: tls: bad certificate); it uses /var/snap/microk8s/current/var/kubernetes/backend/cluster.crt and cluster.key');
    // every member line is UNKNOWN too: nothing is known about them
    expect(out.findings.filter((f) => f.text.includes('unreachable: remote error')).map((f) => f.state)).toEqual([State.UNKNOWN, State.UNKNOWN, State.UNKNOWN]);
  });

  it('leader query time against -w/-c, in seconds', async () => {
    const { state, out, text } = await judge(data({ leader: { ok: true, stdout: '10.0.0.1:19001', ms: 1500 } }), '-w', '1', '-c', '3');
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('leader query took 1.50s (outside -w 1)');
    expect(text).toContain('leader_latency=1.5s;1;3;0');
  });

  it('cluster.yaml behind the leader: said in long output, the leader wins', async () => {
    const live = [m(1), m(2), m(3), m(4, 'standby')];
    const { state, out } = await judge(data({ live, probes: [up(1), up(2), up(3), up(4)] }));
    expect(state).toBe(State.OK);
    expect(out.summary).toContain(', 4 members');
    expect(out.findings.map((f) => f.text)).toContain('cluster.yaml (this node\'s saved view) differs from the leader\'s: 10.0.0.1:19001 voter, 10.0.0.2:19001 voter, 10.0.0.3:19001 voter');
    // The same members in another order, or a role changed, are told apart.
    const reordered = await judge(data({ stored: [m(2), m(3), m(1)], live: [m(3), m(1), m(2)] }));
    expect(reordered.out.findings.map((f) => f.text).join('\n')).not.toContain('differs from the leader');
    const demoted = await judge(data({ live: [m(1), m(2), m(3, 'standby')] }));
    expect(demoted.out.findings.map((f) => f.text).join('\n')).toContain('differs from the leader');
  });

  it('refuses a query timeout that does not fit in -t', async () => {
    await expect(checkOptions(dqliteCluster, ['--query-timeout', '10s'])).rejects.toThrow(/--query-timeout 10s must be less than -t 10s/);
    await expect(checkOptions(dqliteCluster, ['--query-timeout', '10s', '-t', '20'])).resolves.toBeDefined();
  });
});
