// Kubeconfigs read as kubectl reads them (client-go's loading rules), tested
// against kubectl itself: for each case kubectl (Debian's kubernetes-client)
// and the built check are pointed at the same files and the same API double,
// and what kubectl resolved (`kubectl config view --minify --raw`) and did
// (`kubectl get --raw`, as the double recorded it) is compared with what the
// check resolved and did. Without kubectl (not CI) only our side runs.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '../../lib/kube/kubeconfig.js';
import { apiServers, expectContract, runBuilt, tempDir, type ApiServer } from '../harness.js';
import { startConnectProxy } from '../connect-proxy.js';

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = fs.existsSync(KUBECTL);
if (!hasKubectl && process.env.CI) throw new Error('CI is set and kubeconfig.test.ts needs kubectl (Debian package kubernetes-client in .ci/run)');
if (!hasKubectl) console.warn('kubeconfig.test.ts: no /usr/bin/kubectl, comparing with our expectations only');

const start = apiServers();
const dir = tempDir('kubeconfig');
const T = 120_000;

interface Cluster { server: string; ca?: boolean; extra?: Record<string, unknown> }
interface Config {
  current?: string;
  clusters?: Record<string, Cluster>;
  users?: Record<string, Record<string, unknown>>;
  contexts?: Record<string, { cluster: string; user: string }>;
}

let api: ApiServer;
let token: string;
let caFile: string;

/** Write a kubeconfig file; a cluster with ca: true trusts the double's CA (by absolute path). */
function write(name: string, c: Config): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const doc: Record<string, unknown> = { apiVersion: 'v1', kind: 'Config' };
  if (c.current) doc['current-context'] = c.current;
  if (c.clusters) doc.clusters = Object.entries(c.clusters).map(([n, v]) => ({ name: n, cluster: { server: v.server, ...(v.ca !== false && { 'certificate-authority': caFile }), ...v.extra } }));
  if (c.users) doc.users = Object.entries(c.users).map(([n, user]) => ({ name: n, user }));
  if (c.contexts) doc.contexts = Object.entries(c.contexts).map(([n, context]) => ({ name: n, context }));
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

interface Env { KUBECONFIG?: string }
interface Run { code: number; stdout: string; stderr: string }

function kubectl(args: string[], env: Env = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, args, { env: { PATH: '/usr/bin:/bin', HOME: path.join(dir, 'home'), KUBECACHEDIR: path.join(dir, 'cache'), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
    // Without credentials kubectl prompts for a username: an empty stdin ends that at once.
    child.stdin?.end();
  });
}

/** What kubectl resolves: the context, the server, the user's name and token fields. */
async function kubectlView(args: string[], env: Env = {}) {
  const r = await kubectl(['config', 'view', '--minify', '--raw', '-o', 'json', ...args], env);
  expect(r.code, r.stderr).toBe(0);
  const v = JSON.parse(r.stdout) as { 'current-context': string; clusters: { cluster: { server: string } }[]; users: { name: string; user: Record<string, string> }[] };
  return { context: v['current-context'], server: v.clusters[0]!.cluster.server, user: v.users[0]?.name ?? '', fields: v.users[0]?.user ?? {} };
}

/** The requests the double recorded from `since` on, as [path, user]. */
const seen = (since: number) => api.requests().slice(since).map((q) => [q.path, q.user ?? null]);

/** kubectl get --raw PATH and the check, each with the same kubeconfig: both succeed as the same user, or both fail. */
async function sameOutcome(args: string[], env: Env, expectOk: boolean) {
  let before = api.requests().length;
  const ours = await runBuilt('nodes', [...args, '-t', '30'], { env: { ...env } });
  expectContract(ours, 'NODES');
  const ourRequests = seen(before);
  expect(ours.code === 0, ours.firstLine).toBe(expectOk);
  if (expectOk) expect(ourRequests.every(([, u]) => u === 'system:serviceaccount:kube-system:k8s-nrpe'), JSON.stringify(ourRequests)).toBe(true);
  if (!hasKubectl) return { ours };
  before = api.requests().length;
  const theirs = await kubectl([...args, 'get', '--raw', '/api/v1/nodes?limit=1'], env);
  expect(theirs.code === 0, theirs.stderr).toBe(expectOk);
  // kubectl may also ask /version (its version-skew warning): the same user.
  if (expectOk) {
    // The double appends to its log as it answers: kubectl may have exited a moment before the line is there.
    await vi.waitFor(() => expect(seen(before).some(([p]) => p === '/api/v1/nodes')).toBe(true), { timeout: 10_000, interval: 50 });
    expect(seen(before).filter(([p]) => p === '/api/v1/nodes')).toEqual([['/api/v1/nodes', 'system:serviceaccount:kube-system:k8s-nrpe']]);
    expect(seen(before).every(([, u]) => u === 'system:serviceaccount:kube-system:k8s-nrpe')).toBe(true);
  }
  return { ours, theirs };
}

/** What our loader resolves, next to kubectl's view of the same files. */
async function sameResolution(args: { kubeconfig?: string; context?: string }, env: Env = {}) {
  const conn = await connect(args.kubeconfig, args.context, { HOME: path.join(dir, 'home'), ...env });
  conn.agent.destroy();
  const ours = { context: conn.context, server: conn.server.href.replace(/\/$/, ''), user: conn.user, authorization: conn.headers.Authorization ?? '' };
  if (hasKubectl) {
    const v = await kubectlView([...(args.kubeconfig ? ['--kubeconfig', args.kubeconfig] : []), ...(args.context ? ['--context', args.context] : [])], env);
    expect(ours.context).toBe(v.context);
    expect(ours.server).toBe(v.server.replace(/\/$/, ''));
    expect(ours.user).toBe(v.user);
  }
  return ours;
}

beforeAll(async () => {
  api = await start('healthy');
  token = fs.readFileSync(path.join(api.dir, 'token'), 'utf8').trim();
  // The double's directory is removed when it stops; this file's copy lives in our temp dir.
  caFile = path.join(dir, 'ca.crt');
  fs.copyFileSync(path.join(api.dir, 'ca.crt'), caFile);
});

describe('KUBECONFIG=a:b merges as kubectl merges', () => {
  it('the first file to name a user wins whole; current-context from the first file that sets it; its context may live in a later file', async () => {
    // a: current-context 'late' (defined only in b) and user u with the right token.
    // b: its own current-context (a cluster that refuses connections), context 'late', cluster c, user u with a wrong token.
    const a = write('merge/a', { current: 'late', users: { u: { token } } });
    const b = write('merge/b', {
      current: 'gone',
      clusters: { c: { server: api.url }, gone: { server: 'https://127.0.0.1:1' } },
      users: { u: { token: 'wrong-token' } },
      contexts: { late: { cluster: 'c', user: 'u' }, gone: { cluster: 'gone', user: 'u' } },
    });
    const env = { KUBECONFIG: `${a}:${b}` };
    const r = await sameResolution({}, env);
    expect(r).toMatchObject({ context: 'late', server: api.url, user: 'u', authorization: `Bearer ${token}` });
    await sameOutcome([], env, true);
  }, T);

  it('a missing file in the list is skipped; --context picks a context of any file', async () => {
    const a = write('skip/a', { current: 'gone', clusters: { gone: { server: 'https://127.0.0.1:1' } }, users: { u: { token } }, contexts: { gone: { cluster: 'gone', user: 'u' } } });
    const b = write('skip/b', { clusters: { c: { server: api.url } }, contexts: { there: { cluster: 'c', user: 'u' } } });
    const env = { KUBECONFIG: `${path.join(dir, 'skip/none')}:${a}:${b}` };
    expect(await sameResolution({ context: 'there' }, env)).toMatchObject({ context: 'there', server: api.url, user: 'u' });
    await sameOutcome(['--context', 'there'], env, true);
  }, T);

  it('relative paths resolve against the file that holds them, not the first file', async () => {
    fs.mkdirSync(path.join(dir, 'rel/b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'rel/b/token'), `${token}\n`);
    fs.copyFileSync(caFile, path.join(dir, 'rel/b/ca.crt'));
    const a = write('rel/a', { current: 'c' });
    const b = write('rel/b/config', {
      clusters: { c: { server: api.url, ca: false, extra: { 'certificate-authority': 'ca.crt' } } },
      users: { u: { tokenFile: 'token' } },
      contexts: { c: { cluster: 'c', user: 'u' } },
    });
    const env = { KUBECONFIG: `${a}:${b}` };
    expect(await sameResolution({}, env)).toMatchObject({ authorization: `Bearer ${token}` });
    await sameOutcome([], env, true);
  }, T);

  it('every file in the list missing: UNKNOWN naming them, never ~/.kube/config or localhost', async () => {
    const r = await runBuilt('nodes', [], { env: { KUBECONFIG: '/nonexistent/a:/nonexistent/b' } });
    expectContract(r, 'NODES');
    expect(r.firstLine).toBe('K8S NODES UNKNOWN - no kubeconfig found: none of the $KUBECONFIG files exists (/nonexistent/a, /nonexistent/b); fix $KUBECONFIG or pass --kubeconfig');
  }, T);
});

describe('token and tokenFile', () => {
  const user = (inline: string | undefined, file: string | undefined) => write(`tok-${inline ?? 'none'}-${path.basename(file ?? 'none')}`, {
    current: 'c', clusters: { c: { server: api.url } }, contexts: { c: { cluster: 'c', user: 'u' } },
    users: { u: { ...(inline && { token: inline }), ...(file && { tokenFile: file }) } },
  });
  const files = () => {
    fs.writeFileSync(path.join(dir, 'right'), `  ${token}\n\n`);
    fs.writeFileSync(path.join(dir, 'wrong'), 'wrong-token\n');
    fs.writeFileSync(path.join(dir, 'empty'), '');
  };

  it('the file\'s token wins over the inline one, as kubectl sends it', async () => {
    files();
    await sameOutcome(['--kubeconfig', user('wrong-token', path.join(dir, 'right'))], {}, true);
    const r = await sameOutcome(['--kubeconfig', user(token, path.join(dir, 'wrong'))], {}, false);
    expect(r.ours.firstLine).toMatch(/rejected the credentials \(401 Unauthorized\)/);
  }, T);

  it('the inline token is the fallback when the file is missing or empty; a file alone must hold a token', async () => {
    files();
    await sameOutcome(['--kubeconfig', user(token, path.join(dir, 'missing'))], {}, true);
    await sameOutcome(['--kubeconfig', user(token, path.join(dir, 'empty'))], {}, true);
    const r = await sameOutcome(['--kubeconfig', user(undefined, path.join(dir, 'empty'))], {}, false);
    expect(r.ours.firstLine).toMatch(/cannot load credentials for user 'u': token file .*\/empty is empty$/);
  }, T);
});

describe('what kubectl refuses, refused with its reason and no request', () => {
  const cases: [string, Config, RegExp, RegExp][] = [
    ['insecure-skip-tls-verify with a CA',
      { clusters: { c: { server: '', extra: { 'insecure-skip-tls-verify': true } } }, users: { u: { token: 'x' } } },
      /specifying a root certificates file with the insecure flag is not allowed/,
      /: cluster 'c' has insecure-skip-tls-verify and a certificate authority; specifying a root certificates file with the insecure flag is not allowed: remove insecure-skip-tls-verify \(kubectl refuses it too\)$/],
    ['certificate-authority and -data',
      { clusters: { c: { server: '', extra: { 'certificate-authority-data': 'eA==' } } }, users: { u: { token: 'x' } } },
      /certificate-authority-data and certificate-authority are both specified for c/,
      /certificate-authority-data and certificate-authority are both specified for cluster 'c': keep one/],
    ['token and basic auth',
      { clusters: { c: { server: '' } }, users: { u: { token: 'x', username: 'a', password: 'b' } } },
      /more than one authentication method found for u; found \[token basicAuth\], only one is allowed/,
      /more than one authentication method found for user 'u' \(token and basic auth\), only one is allowed/],
    ['a client certificate without a key',
      { clusters: { c: { server: '' } }, users: { u: { 'client-certificate-data': 'eA==' } } },
      /client-key-data or client-key must be specified for u/,
      /client-key-data or client-key must be specified for user 'u' to use the client certificate/],
  ];
  it.each(cases)('%s', async (name, c, theirs, ours) => {
    const file = write(`refuse-${name.replace(/\W+/g, '-')}`, {
      ...c, current: 'c', contexts: { c: { cluster: 'c', user: 'u' } },
      clusters: Object.fromEntries(Object.entries(c.clusters!).map(([n, v]) => [n, { ...v, server: api.url }])),
    });
    const before = api.requests().length;
    const r = await runBuilt('nodes', ['--kubeconfig', file]);
    expectContract(r, 'NODES');
    expect(r.code).toBe(3);
    expect(r.firstLine).toMatch(ours);
    expect(api.requests().length).toBe(before);
    if (hasKubectl) {
      const k = await kubectl(['--kubeconfig', file, 'get', '--raw', '/api/v1/nodes?limit=1']);
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(theirs);
      expect(api.requests().length).toBe(before);
    }
  }, T);
});

describe('set-up errors name the next step', () => {
  it('a missing --kubeconfig names make-kubeconfig.sh as the .deb installs it', async () => {
    const r = await runBuilt('nodes', ['--kubeconfig', '/etc/nagios/k8s-nrpe.kubeconfig.missing']);
    expectContract(r, 'NODES');
    expect(r.firstLine).toBe('K8S NODES UNKNOWN - kubeconfig /etc/nagios/k8s-nrpe.kubeconfig.missing (--kubeconfig) does not exist: ' +
      'write it with /usr/share/k8s-nrpe/make-kubeconfig.sh -o /etc/nagios/k8s-nrpe.kubeconfig.missing (as root, see /usr/share/doc/k8s-nrpe/README.Debian)');
    // The script the message names is the one the package installs there.
    expect(fs.readFileSync(path.join(__dirname, '../../scripts/package.mjs'), 'utf8')).toContain("put('usr/share/k8s-nrpe/make-kubeconfig.sh'");
  }, T);

  it('a directory is said to be a directory, with the file inside it when there is one', async () => {
    fs.mkdirSync(path.join(dir, 'dotkube'), { recursive: true });
    const bare = await runBuilt('nodes', ['--kubeconfig', path.join(dir, 'dotkube')]);
    expectContract(bare, 'NODES');
    expect(bare.firstLine).toBe(`K8S NODES UNKNOWN - kubeconfig ${path.join(dir, 'dotkube')} (--kubeconfig) is a directory, not a kubeconfig file`);
    fs.writeFileSync(path.join(dir, 'dotkube/config'), '');
    const hint = await runBuilt('nodes', [], { env: { KUBECONFIG: path.join(dir, 'dotkube') } });
    expect(hint.firstLine).toBe(`K8S NODES UNKNOWN - kubeconfig ${path.join(dir, 'dotkube')} ($KUBECONFIG) is a directory, not a kubeconfig file (did you mean ${path.join(dir, 'dotkube/config')}?)`);
  }, T);

  it('a connection error names the server, the kubeconfig and the context it came from', async () => {
    const file = write('refused', { current: 'prod', clusters: { c: { server: 'https://127.0.0.1:1' } }, users: { u: { token } }, contexts: { prod: { cluster: 'c', user: 'u' } } });
    const r = await runBuilt('nodes', ['--kubeconfig', file]);
    expectContract(r, 'NODES');
    expect(r.firstLine).toBe(`K8S NODES UNKNOWN - cannot connect to API server https://127.0.0.1:1: connection refused (is the apiserver/kubelite running?) (server of context 'prod' in kubeconfig ${file})`);
  }, T);
});

describe('a server URL with a path (Rancher, a path-routing proxy)', () => {
  it('keeps the path in front of every request, health endpoints included, as kubectl does for the API', async () => {
    const prefix = '/k8s/clusters/c-1';
    const s = await start('healthy', undefined, { prefix });
    for (const check of ['nodes', 'apiserver']) {
      const r = await runBuilt(check, ['--kubeconfig', s.kubeconfigFor('token'), '-t', '30']);
      expect(r.code, r.stdout).toBe(0);
    }
    const ours = s.requests();
    expect(ours.map((q) => q.fullPath)).toContain(`${prefix}/livez`);
    expect(ours.filter((q) => !q.fullPath?.startsWith(`${prefix}/`)), 'requests outside the server URL\'s path').toEqual([]);
    if (!hasKubectl) return;
    // kubectl's API requests carry it too. (Its `get --raw /livez` does not: --raw takes a
    // server-relative URI, rest.Request.RequestURI, which asks Rancher itself, not the cluster.)
    // The double serves no discovery, so kubectl stops after asking /api and /apis: below the prefix.
    await kubectl(['--kubeconfig', s.kubeconfigFor('token'), 'get', 'nodes', '-o', 'name']);
    const theirs = s.requests().slice(ours.length).map((q) => q.fullPath);
    expect(theirs).toContain(`${prefix}/api`);
    expect(theirs.every((p) => p?.startsWith(`${prefix}/`)), JSON.stringify(theirs)).toBe(true);
  }, T);
});

describe('proxy-url: HTTPS to the API server through an HTTP CONNECT proxy', () => {
  const viaProxy = (name: string, proxyUrl: string) => write(`proxy-${name}`, {
    current: 'c', clusters: { c: { server: api.url, extra: { 'proxy-url': proxyUrl } } }, users: { u: { token } }, contexts: { c: { cluster: 'c', user: 'u' } },
  });

  it('tunnels every request, TLS verified end to end (the proxy sees no token), as kubectl does', async () => {
    const proxy = await startConnectProxy();
    const file = viaProxy('plain', proxy.url);
    const before = api.requests().length;
    const r = await runBuilt('nodes', ['--kubeconfig', file, '-t', '30']);
    expect(r.code, r.stdout).toBe(0);
    const target = new URL(api.url).host;
    expect(proxy.connects.length).toBeGreaterThan(0);
    expect(proxy.connects.every((c) => c.target === target && c.status === 200)).toBe(true);
    expect(api.requests().length).toBeGreaterThan(before);
    const wire = proxy.relayed().toString('latin1');
    expect(wire).not.toContain(token);
    expect(wire).not.toContain('GET /api');
    // The server is still verified inside the tunnel: trusting another CA, nothing reaches it.
    fs.copyFileSync(path.join(api.dir, 'badca.crt'), path.join(dir, 'badca.crt'));
    const untrusted = write('proxy-badca', { current: 'c', clusters: { c: { server: api.url, ca: false, extra: { 'certificate-authority': path.join(dir, 'badca.crt'), 'proxy-url': proxy.url } } },
      users: { u: { token } }, contexts: { c: { cluster: 'c', user: 'u' } } });
    const n0 = api.requests().length;
    const bad = await runBuilt('nodes', ['--kubeconfig', untrusted, '-t', '30']);
    expect(bad.firstLine).toMatch(/TLS verification of API server .* failed/);
    expect(api.requests().length).toBe(n0);
    if (!hasKubectl) return;
    const n = proxy.connects.length;
    const k = await kubectl(['--kubeconfig', file, 'get', '--raw', '/api/v1/nodes?limit=1']);
    expect(k.code, k.stderr).toBe(0);
    expect(proxy.connects.slice(n).map((c) => c.target)).toContain(target);
  }, T);

  it('sends the proxy-url\'s credentials to the proxy and never prints them; a refusal names the proxy', async () => {
    const proxy = await startConnectProxy({ auth: 'monitor:pr0xy-s3cret' });
    const ok = await runBuilt('nodes', ['--kubeconfig', viaProxy('auth', proxy.url.replace('//', '//monitor:pr0xy-s3cret@')), '-t', '30']);
    expect(ok.code, ok.stdout).toBe(0);
    const denied = await runBuilt('nodes', ['--kubeconfig', viaProxy('noauth', proxy.url), '-t', '30', '-vvv']);
    expectContract(denied, 'NODES');
    expect(denied.firstLine).toMatch(new RegExp(`proxy ${proxy.url} refused the tunnel to ${new URL(api.url).host}: 407 Proxy Authentication Required`));
    const wrong = await runBuilt('nodes', ['--kubeconfig', viaProxy('wrong', proxy.url.replace('//', '//monitor:wrong-pr0xy-pass@')), '-t', '30', '-vvv']);
    expect(wrong.firstLine).toMatch(/407/);
    expect(wrong.stdout + wrong.stderr + ok.stdout).not.toMatch(/pr0xy-s3cret|wrong-pr0xy-pass/);
  }, T);

  it('a scheme kubectl does not know is refused with its reason; socks5 is named as not supported', async () => {
    const ftp = await runBuilt('nodes', ['--kubeconfig', viaProxy('ftp', 'ftp://127.0.0.1:21')]);
    expect(ftp.firstLine).toMatch(/proxy-url has unsupported scheme "ftp", must be http, https, or socks5 \(kubectl refuses it too\)$/);
    const socks = await runBuilt('nodes', ['--kubeconfig', viaProxy('socks', 'socks5://127.0.0.1:1080')]);
    expect(socks.firstLine).toMatch(/proxy-url socks5:\/\/127\.0\.0\.1:1080 is a SOCKS5 proxy, which k8s-nrpe does not support/);
    if (hasKubectl) {
      const k = await kubectl(['--kubeconfig', viaProxy('ftp', 'ftp://127.0.0.1:21'), 'get', '--raw', '/livez']);
      expect(k.stderr).toMatch(/unsupported scheme "ftp", must be http, https, or socks5/);
    }
  }, T);
});

describe('in-cluster service account (a check run in a pod)', () => {
  // K8S_NRPE_SERVICEACCOUNT_DIR (test-only) stands for /var/run/secrets/kubernetes.io/serviceaccount.
  it('with no kubeconfig anywhere: KUBERNETES_SERVICE_HOST/PORT, the token file and ca.crt, as rest.InClusterConfig', async () => {
    const sa = path.join(dir, 'serviceaccount');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), `${token}\n`);
    fs.copyFileSync(caFile, path.join(sa, 'ca.crt'));
    const { hostname, port } = new URL(api.url);
    const env = { KUBERNETES_SERVICE_HOST: hostname, KUBERNETES_SERVICE_PORT: port, K8S_NRPE_SERVICEACCOUNT_DIR: sa };
    const before = api.requests().length;
    const r = await runBuilt('nodes', ['-vv', '-t', '30'], { env });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stderr).toContain(`using kubeconfig in-cluster service account, context in-cluster, server https://${hostname}:${port}`);
    expect(api.requests().slice(before).every((q) => q.user === 'system:serviceaccount:kube-system:k8s-nrpe')).toBe(true);
    // Only when no file gave a config (merged_client_builder.go), and only with both variables set.
    const withFile = await runBuilt('nodes', ['--kubeconfig', path.join(dir, 'nope'), '-t', '30'], { env });
    expect(withFile.firstLine).toMatch(/does not exist/);
    const noPort = await runBuilt('nodes', ['-t', '30'], { env: { ...env, KUBERNETES_SERVICE_PORT: '' } });
    expect(noPort.firstLine).toMatch(/no kubeconfig found; tried .*in-cluster service account/);
  }, T);
});
