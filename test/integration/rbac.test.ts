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

/** The verb and 'group/plural[/subresource]' an API path asks for ('nonResourceURL:/livez' outside /api and /apis). */
function permissionFor(method: string, p: string): { verb: string; resource: string } {
  const segs = p.split('/').filter(Boolean);
  if (segs[0] !== 'api' && segs[0] !== 'apis') return { verb: method.toLowerCase(), resource: `nonResourceURL:${p}` };
  let group: string;
  let rest: string[];
  if (segs[0] === 'api') { group = ''; rest = segs.slice(2); } else { group = segs[1]!; rest = segs.slice(3); }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [plural, name, sub] = rest;
  if (method !== 'GET') return { verb: method.toLowerCase(), resource: `${group}/${plural}` };
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

  describe('covers every request the built checks make', () => {
    const start = apiServers();

    for (const scenario of ['incident', 'healthy']) {
      it(`in the ${scenario} scenario`, async () => {
        const server = await start(scenario);
        const list = await runBuilt('k8s-nrpe', ['--list']);
        const checks = list.stdout.split('\n').filter(Boolean);
        expect(checks.length).toBeGreaterThan(0);
        // The node-scoped checks judge a node of the scenario (this host is none of them), as on a node.
        const node = (check: string) => (['kubelet_stall', 'reboot_ready', 'calico_nat'].includes(check) ? ['--node', 'k8s02'] : []);
        for (const check of checks) await runBuilt(check, ['--kubeconfig', server.kubeconfig, ...node(check)]);
        const asked = server.requests();
        expect(asked.length).toBeGreaterThan(0);
        const denied = asked
          .map((r) => ({ ...permissionFor(r.method, r.path), path: r.path }))
          .filter((p) => !granted.get(p.resource)?.has(p.verb));
        expect(denied).toEqual([]);
      }, 120_000); // every check in turn, as subprocesses
    }
  });
});
