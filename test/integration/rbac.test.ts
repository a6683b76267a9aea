// deploy/rbac.yaml grants exactly what the checks read: statically (the
// ClusterRole against RESOURCES in lib/kube/client.ts, the only place a
// resource is named) and dynamically (every request every check makes against
// the incident and healthy scenarios is one the ClusterRole allows).
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../lib/kube/client.js';
import { HEALTH_URLS } from '../../checks/apiserver.js';
import { apiServers, ROOT, runBuilt } from '../harness.js';

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

  it('grants get and list on every resource the client can name, and nothing else', () => {
    for (const rule of role.rules ?? []) {
      if (rule.nonResourceURLs) {
        // check_k8s_apiserver's health endpoints: GET on exactly those, nothing else in the rule.
        expect(rule, JSON.stringify(rule)).toEqual({ nonResourceURLs: HEALTH_URLS, verbs: ['get'] });
        continue;
      }
      expect(rule.verbs?.every((v) => v === 'get' || v === 'list'), JSON.stringify(rule)).toBe(true);
      expect(rule.resourceNames).toBeUndefined();
      expect([...(rule.apiGroups ?? []), ...(rule.resources ?? [])]).not.toContain('*');
    }
    const needed = Object.values(RESOURCES).map((r) => `${r.group}/${r.plural}`).sort();
    expect([...granted.keys()].filter((k) => !k.startsWith('nonResourceURL:')).sort()).toEqual(needed);
    for (const key of needed) expect([...granted.get(key)!].sort(), key).toEqual(['get', 'list']);
  });

  it('RESOURCES is the only place a resource is defined', () => {
    // A check that built its own { group, plural } would bypass the comparison above.
    const offenders: string[] = [];
    const scan = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const f = path.join(dir, e.name);
        if (e.isDirectory()) scan(f);
        else if (f.endsWith('.ts') && f !== path.join(ROOT, 'lib/kube/client.ts') && /\bplural\s*:|\/apis?\/[a-z]/.test(fs.readFileSync(f, 'utf8'))) offenders.push(path.relative(ROOT, f));
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

  describe('covers every request the built checks make', () => {
    const start = apiServers();

    for (const scenario of ['incident', 'healthy']) {
      it(`in the ${scenario} scenario`, async () => {
        const server = await start(scenario);
        const list = await runBuilt('k8s-nrpe', ['--list']);
        const checks = list.stdout.split('\n').filter(Boolean);
        expect(checks.length).toBeGreaterThan(0);
        for (const check of checks) await runBuilt(check, ['--kubeconfig', server.kubeconfig]);
        const asked = server.requests();
        expect(asked.length).toBeGreaterThan(0);
        const denied = asked
          .map((r) => ({ ...permissionFor(r.method, r.path), path: r.path }))
          .filter((p) => !granted.get(p.resource)?.has(p.verb) && !(namespaceOf(p.path) === CANARY_NS && canaryGranted.has(`${p.verb} ${p.resource}`)));
        expect(denied).toEqual([]);
      }, 120_000); // every check in turn, as subprocesses
    }
  });
});
