// deploy/rbac.yaml grants exactly what the checks read: it is what
// scripts/rbac.mjs makes from the registry (lib/kube/resources.ts, the only
// place a resource is named), and, run with -vv against the healthy and
// incident scenarios, every check asks only for what it grants and every grant
// is asked for by some check.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { NON_RESOURCE_URLS, OPT_IN_GRANTS, RESOURCES } from '../../lib/kube/resources.js';
import { mapBounded } from '../../lib/kube/parallel.js';
import { apiServers, ROOT, runBuilt, type RecordedRequest } from '../harness.js';
import { listChecks, runAsNrpe } from '../sweep.js';
// @ts-expect-error: plain JS, the generator
import { rbacYaml } from '../../scripts/rbac.mjs';

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
interface Doc { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; rules?: Rule[]; roleRef?: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace?: string }[]; type?: string }

const docs = yaml.loadAll(fs.readFileSync(path.join(ROOT, 'deploy/rbac.yaml'), 'utf8')) as Doc[];
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const role = byKind('ClusterRole')[0]!;

/** 'group/plural' -> verbs the ClusterRole grants. */
const granted = new Map<string, Set<string>>();
for (const rule of role.rules ?? []) {
  for (const g of rule.apiGroups ?? []) for (const r of rule.resources ?? []) {
    const key = `${g}/${r}`;
    granted.set(key, new Set([...(granted.get(key) ?? []), ...(rule.verbs ?? [])]));
  }
}

/** Non-resource URLs (/livez, /readyz) the ClusterRole lets the checks GET. */
const nonResource = new Set((role.rules ?? []).flatMap((rule) => (rule.verbs?.includes('get') ? rule.nonResourceURLs ?? [] : [])));
for (const url of nonResource) granted.set(`nonResourceURL:${url}`, new Set(['get']));

/** deploy/rbac-canary.yaml: the canary's Role, in its namespace only. */
const canaryDocs = yaml.loadAll(fs.readFileSync(path.join(ROOT, 'deploy/rbac-canary.yaml'), 'utf8')) as (Doc & { spec?: unknown })[];
const canaryRole = canaryDocs.find((d) => d.kind === 'Role')!;
const CANARY_NS = canaryRole.metadata.namespace!;
const canaryGranted = new Set((canaryRole.rules ?? []).flatMap((rule) => (rule.apiGroups ?? []).flatMap((g) =>
  (rule.resources ?? []).flatMap((r) => (rule.verbs ?? []).map((v) => `${v} ${g}/${r}`)))));

/** The namespace of an API path, if it has one. */
const namespaceOf = (p: string) => /\/namespaces\/([^/]+)\//.exec(p)?.[1];

/** The verb and 'group/plural[/subresource]' an API path asks for ('nonResourceURL:/livez' outside /api and /apis). */
function permissionFor(method: string, p: string): { verb: string; resource: string } {
  const segs = p.split('/').filter(Boolean);
  if (segs[0] !== 'api' && segs[0] !== 'apis') return { verb: method.toLowerCase(), resource: `nonResourceURL:${p}` };
  let group: string;
  let rest: string[];
  if (segs[0] === 'api') { group = ''; rest = segs.slice(2); } else { group = segs[1]!; rest = segs.slice(3); }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [plural, name, sub] = rest;
  // RBAC's verbs for writes (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go): POST is create, PUT update.
  if (method !== 'GET') return { verb: ({ POST: 'create', PUT: 'update' } as Record<string, string>)[method] ?? method.toLowerCase(), resource: `${group}/${plural}` };
  return { verb: name ? 'get' : 'list', resource: `${group}/${plural}${sub ? `/${sub}` : ''}` };
}

describe('deploy/rbac.yaml', () => {
  it('is one ServiceAccount, a read-only ClusterRole bound to it, and its token Secret', () => {
    const [sa] = byKind('ServiceAccount');
    expect(sa?.metadata.name).toBe('k8s-nrpe');
    const [binding] = byKind('ClusterRoleBinding');
    expect(binding?.roleRef).toMatchObject({ kind: 'ClusterRole', name: role.metadata.name });
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: 'k8s-nrpe', namespace: sa!.metadata.namespace }]);
    const [secret] = byKind('Secret');
    expect(secret?.type).toBe('kubernetes.io/service-account-token');
    expect(secret?.metadata.namespace).toBe(sa!.metadata.namespace);
    expect(secret?.metadata.annotations?.['kubernetes.io/service-account.name']).toBe('k8s-nrpe');
    expect(docs.map((d) => d.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Secret', 'ServiceAccount']);
  });

  it('is what npm run contrib makes from lib/kube/resources.ts', () => {
    const generated = rbacYaml({ resources: Object.values(RESOURCES), nonResourceUrls: [...NON_RESOURCE_URLS], optIn: OPT_IN_GRANTS }) as string;
    const committed = fs.readFileSync(path.join(ROOT, 'deploy/rbac.yaml'), 'utf8');
    expect(committed === generated, 'deploy/rbac.yaml is stale: run npm run contrib and commit it').toBe(true);
  });

  it('grants the registry\'s verbs on every resource it declares, and nothing else', () => {
    for (const rule of role.rules ?? []) {
      if (rule.nonResourceURLs) {
        // check_k8s_apiserver's health endpoints: GET on exactly those, nothing else in the rule.
        expect(rule, JSON.stringify(rule)).toEqual({ nonResourceURLs: [...NON_RESOURCE_URLS], verbs: ['get'] });
        continue;
      }
      expect(rule.verbs?.every((v) => v === 'get' || v === 'list'), JSON.stringify(rule)).toBe(true);
      expect(rule.resourceNames).toBeUndefined();
      expect([...(rule.apiGroups ?? []), ...(rule.resources ?? [])]).not.toContain('*');
    }
    const needed = Object.values(RESOURCES).map((r) => `${r.group}/${r.plural}`).sort();
    expect([...granted.keys()].filter((k) => !k.startsWith('nonResourceURL:')).sort()).toEqual(needed);
    for (const r of Object.values(RESOURCES)) expect([...granted.get(`${r.group}/${r.plural}`)!].sort(), r.plural).toEqual([...r.verbs].sort());
  });

  it('RESOURCES is the only place a resource is defined', () => {
    // A check that built its own { group, plural } would bypass the comparison above.
    const offenders: string[] = [];
    const scan = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const f = path.join(dir, e.name);
        if (e.isDirectory()) scan(f);
        else if (f.endsWith('.ts') && f !== path.join(ROOT, 'lib/kube/resources.ts') && /\bplural\s*:|\/apis?\/[a-z]/.test(fs.readFileSync(f, 'utf8'))) offenders.push(path.relative(ROOT, f));
      }
    };
    scan(path.join(ROOT, 'checks'));
    scan(path.join(ROOT, 'lib'));
    expect(offenders).toEqual([]);
  });

  it('deploy/rbac-canary.yaml: the canary\'s namespace, a restricted Pod Security level, a quota, and a Role there bound to the same account', () => {
    expect(canaryDocs.map((d) => d.kind)).toEqual(['Namespace', 'ResourceQuota', 'Role', 'RoleBinding']);
    const ns = canaryDocs[0]! as Doc & { metadata: { labels?: Record<string, string> } };
    expect(ns.metadata.name).toBe(CANARY_NS);
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const d of canaryDocs.slice(1)) expect(d.metadata.namespace).toBe(CANARY_NS);
    expect([...canaryGranted].sort()).toEqual(['create /pods', 'delete /pods', 'get /events', 'get /pods', 'list /events', 'list /pods']);
    const binding = canaryDocs.find((d) => d.kind === 'RoleBinding')!;
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: canaryRole.metadata.name });
    expect(binding.subjects).toEqual(byKind('ClusterRoleBinding')[0]!.subjects);
  });

  it('the canary\'s writes are exactly what its Role grants, and only in its namespace', async () => {
    const server = await startCanary({
      objects: [...(JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/healthy/nodes.json'), 'utf8')) as { objects: unknown[] }).objects,
        { apiVersion: 'k8s-nrpe.test/v1', kind: 'PodLifecycle', metadata: { name: 'canary' }, spec: { namespaces: [CANARY_NS], stepMs: 30 } }],
    });
    const r = await runBuilt('canary', ['--kubeconfig', server.kubeconfig, '-t', '60']);
    expect(r.code, r.stdout).toBe(0);
    const writes = server.requests().filter((q) => q.method !== 'GET').map((q) => ({ ...permissionFor(q.method, q.path), ns: namespaceOf(q.path) }));
    expect(writes.map((w) => `${w.verb} ${w.resource} ${w.ns}`)).toEqual([`create /pods ${CANARY_NS}`, `delete /pods ${CANARY_NS}`]);
    const reads = server.requests().filter((q) => q.method === 'GET').map((q) => permissionFor(q.method, q.path));
    expect(reads.filter((p) => !granted.get(p.resource)?.has(p.verb))).toEqual([]);
  }, 120_000);
  const startCanary = apiServers();

  /**
   * Rollouts under way, which the shared scenarios do not hold: when each began is what the
   * ControllerRevisions say (check_k8s_workloads GETs a StatefulSet's update revision, lists a
   * DaemonSet's revisions).
   */
  const owner = (kind: string, name: string, uid: string) => [{ apiVersion: 'apps/v1', kind, name, uid, controller: true }];
  const ROLLOUT = { objects: [
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'apps', uid: 'd5000000-0000-4000-8000-000000000002', generation: 2 },
      spec: { replicas: 3, selector: { matchLabels: { app: 'db' } }, updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'db-5d6c7b8f9', updateRevision: 'db-7f8e9d0c1' } },
    { apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: 2,
      metadata: { name: 'db-7f8e9d0c1', namespace: 'apps', creationTimestamp: '$now-1m', labels: { app: 'db' }, ownerReferences: owner('StatefulSet', 'db', 'd5000000-0000-4000-8000-000000000002') } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'node-exporter', namespace: 'monitoring', uid: 'd5000000-0000-4000-8000-000000000001', generation: 2 },
      spec: { selector: { matchLabels: { app: 'node-exporter' } }, updateStrategy: { type: 'RollingUpdate' } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 1, observedGeneration: 2 } },
    { apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: 2,
      metadata: { name: 'node-exporter-6b8d', namespace: 'monitoring', creationTimestamp: '$now-1m', labels: { app: 'node-exporter' }, ownerReferences: owner('DaemonSet', 'node-exporter', 'd5000000-0000-4000-8000-000000000001') } },
  ] };

  describe('is exactly what the built checks ask for', () => {
    const start = apiServers();

    /** 'verb group/plural[/sub]' of each request, as the authorizer sees it. */
    const asked = (reqs: RecordedRequest[]) => new Set(reqs.map((r) => { const p = permissionFor(r.method, r.path); return `${p.verb} ${p.resource}`; }));
    /** The same for each grant of the ClusterRole. */
    const grants = new Set([...granted].flatMap(([resource, verbs]) => [...verbs].map((v) => `${v} ${resource}`)));

    it('every check with -vv on the healthy, incident and rollout scenarios: each request granted, each grant requested', async () => {
      const checks = await listChecks();
      expect(checks.length).toBeGreaterThan(10);
      const seen = new Set<string>();
      for (const scenario of ['healthy', 'incident', ROLLOUT]) {
        const server = await start(scenario);
        const runs = await mapBounded(checks, 4, (c) => runAsNrpe(c, server, ['-vv']));
        // -vv logs each answered request; each is in the double's log. (Not the converse: a check that
        // ends on its verdict, e.g. calico_nat when the nat table cannot be read, may leave a request
        // in flight that the double answered after the check stopped logging.)
        const logged = runs.flatMap((r) => [...r.stderr.matchAll(/\] GET (\/\S*?)(?:\?\S*)? -> \d+/g)].map((m) => m[1]!));
        const reqs = server.requests();
        expect(reqs.length).toBeGreaterThan(0);
        const answered = new Set(reqs.map((r) => r.path));
        expect(logged.filter((p) => !answered.has(p))).toEqual([]);
        for (const a of asked(reqs)) seen.add(a);
      }
      expect([...seen].filter((a) => !grants.has(a)).sort(), 'asked for but not granted').toEqual([]);
      expect([...grants].filter((g) => !seen.has(g)).sort(), 'granted but never asked for').toEqual([]);
    }, 300_000); // every check twice, as subprocesses

    it('the opt-in grants (commented out in deploy/rbac.yaml) are what their option asks for', async () => {
      const server = await start('healthy');
      // check_k8s_volumes --usage: the kubelet's stats summary through nodes/proxy.
      await runBuilt('volumes', ['--kubeconfig', server.kubeconfig, '--usage']);
      const extra = [...asked(server.requests())].filter((a) => !grants.has(a));
      expect(extra).toEqual(OPT_IN_GRANTS.flatMap((g) => g.verbs.map((v) => `${v} ${g.resource.group}/${g.resource.plural}/${g.subresource}`)));
    }, 120_000);
  });
});
