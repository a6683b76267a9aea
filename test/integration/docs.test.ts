// Docs that are true: every repository path and every option that README.md
// and docs/ name exists, and the perfdata units the docs show are the ones the
// checks print. (The generated parts, README's checks reference and contrib/,
// are compared with their generator in contrib.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness.js';
// @ts-expect-error: plain JS, the generator's own model of the declarations
import { loadModel } from '../../scripts/contrib.mjs';

interface ModelOption { flag: string }
interface Model {
  common: ModelOption[];
  triage: { options: ModelOption[] };
  discover: { options: ModelOption[] };
  checks: { name: string; options: ModelOption[]; perfdata: { label: string; uom?: string }[] }[];
}

const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs'), { recursive: true }).map(String).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

/** Top-level directories of this repository: a path starting with one is ours. */
const OURS = /(?<![\w/.@:-])((?:lib|checks|cli|test|scripts|docs|deploy|packaging|nrpe\.d|contrib|bench|\.ci)\/[\w./*-]*[\w*])/g;
/** Named but not ours: a file of another repository cited next to it, or one the reader is to create. */
const NOT_OURS = [
  /canonical\/microk8s [^\n]*$/, // microk8s's own source (scripts/wrappers/...)
  /kubernetes\/kubernetes [^\n]*$/,
  /nagioscore [^\n]*$/,
  /nrpe [^\n]*$/,
  /monitoring-plugins[^\n]*$/, // monitoring-plugins' lib/states.h
];
/** docs/writing-a-check.md's worked example (check_k8s_pending) and its placeholders (NAME): files the reader writes. */
const EXAMPLE = /(^|\/)(pending|NAME)(\.|$)/;

/**
 * Options of other tools that the docs quote (kubectl, journalctl, crictl,
 * the API server's flags, Node, docker...): named so that a new one is a
 * conscious choice, and a misspelt option of ours is caught.
 */
const OTHER_TOOLS = new Set([
  'all', 'all-namespaces', 'field-selector', 'force', 'grace-period', 'ignore-daemonsets', 'delete-emptydir-data', 'previous', 'since', 'name', 'rm', 'platform',
  'output-fields', 'runtime-endpoint', 'event-ttl', 'authorization-mode', 'hostname-override', 'leader-elect-lease-duration', 'leader-elect-renew-deadline',
  'etcd-compaction-interval', 'cert', 'mode', 'duration', 'print-architecture', 'strip-all', 'experimental-sea-config', 'use-openssl-ca', 'max-semi-space-size',
  'x', 'no-x', // writing-a-check.md's generic --x/--no-x
  'max-response-bytes', // security.md: proposed, not an option (it says so)
  'mutate', 'incremental', 'concurrency', // Stryker (docs/testing.md)
  'add-architecture', // dpkg
  'minify', 'raw', // kubectl config view / get --raw
  'single-threaded', 'v8-pool-size', 'disable-wasm-trap-handler', 'no-experimental-require-module', // node (docs/performance.md)
  'change', 'base', // the duplicates tool (docs/writing-a-check.md)
  'max-pods', // the kubelet's (docs/checks/capacity.md)
  'count', 'lookback', // node-problem-detector's log monitor rules (docs/checks/nodes.md)
  'ignore', // ITRS check_k8s's (docs/selection.md)
  'root', // journalctl --root (docs/checks/dqlite.md)
  'terminated-pod-gc-threshold', // kube-controller-manager's (docs/checks/pods.md)
]);

function ourOptions(model: Model): Set<string> {
  const flags = new Set(['help', 'version', 'list', 'json']);
  for (const o of [...model.common, ...model.triage.options, ...model.discover.options, ...model.checks.flatMap((c) => c.options)]) flags.add(o.flag).add(`no-${o.flag}`);
  // bench/run.mjs's own options (docs/performance.md): `a === '--x'`.
  for (const m of text('bench/run.mjs').matchAll(/a === '--([a-z-]+)'/g)) flags.add(m[1]!);
  // bench/startup.mjs's: opt('--x').
  for (const m of text('bench/startup.mjs').matchAll(/opt\('--([a-z-]+)'/g)) flags.add(m[1]!);
  // bench/hostile.mjs's: arg('--x', default).
  for (const m of text('bench/hostile.mjs').matchAll(/arg\('--([a-z-]+)'/g)) flags.add(m[1]!);
  return flags;
}

describe('docs/ and README.md', () => {
  it('name only files and directories that exist', () => {
    const missing: string[] = [];
    for (const f of DOCS) {
      for (const line of text(f).split('\n')) {
        for (const m of line.matchAll(OURS)) {
          const p = m[1]!.replace(/[.]+$/, '');
          if ((f === 'docs/writing-a-check.md' && EXAMPLE.test(p)) || NOT_OURS.some((re) => re.test(line.slice(0, m.index)))) continue;
          const ok = p.includes('*')
            ? fs.readdirSync(path.join(ROOT, path.dirname(p))).some((n) => new RegExp(`^${path.basename(p).replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).test(n))
            : fs.existsSync(path.join(ROOT, p)) || fs.existsSync(path.join(ROOT, 'docs', p));
          if (!ok) missing.push(`${f}: ${p}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('name only options that exist (ours, or another tool\'s that the docs quote)', async () => {
    const ours = ourOptions((await loadModel()) as Model);
    const unknown: string[] = [];
    for (const f of DOCS) {
      for (const m of text(f).matchAll(/(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(-\*)?(?![A-Za-z])/g)) {
        const flag = m[1]!;
        // '--context-deadline-exceeded-*': a family of options sharing a prefix.
        const known = m[2] ? [...ours].some((o) => o.startsWith(`${flag}-`)) : ours.has(flag) || OTHER_TOOLS.has(flag);
        if (!known) unknown.push(`${f}: --${flag}${m[2] ?? ''}`);
      }
    }
    expect([...new Set(unknown)]).toEqual([]);
  });

  it('show the perfdata unit each check prints (the README reference and man pages come from these declarations)', async () => {
    const model = (await loadModel()) as Model;
    const wrong: string[] = [];
    for (const c of model.checks) {
      const src = text(`checks/${c.name}.ts`);
      // Every metric recorded with a unit: r.metric('label', v, { uom: 's' }) or r.judge(...).
      for (const m of src.matchAll(/\.(?:metric|judge)\(\s*(['`])([^'`]+)\1,(?:(?!\.(?:metric|judge)\()[^;])*?uom: '([^']+)'/gs)) {
        const label = m[2]!.replace(/\$\{[^}]+\}/g, '<x>');
        // A label built from a template ('${s}_seconds') is documented by every label it makes.
        const made = new RegExp(`^${label.split('<x>').map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[a-z0-9_]+')}$`);
        const docs = c.perfdata.filter((p) => p.label === m[2] || p.label.replace(/<[^>]+>/g, '<x>') === label || made.test(p.label));
        // Of the labels a template makes, the one with this unit ('memory_headroom' of '${key}_headroom').
        const doc = docs.find((p) => p.uom === m[3]) ?? docs[0];
        if (!doc) wrong.push(`${c.name}: ${m[2]} is not documented`);
        else if (doc.uom !== m[3]) wrong.push(`${c.name}: ${m[2]} prints '${m[3]}', its perfdata doc says '${doc.uom ?? ''}'`);
      }
    }
    expect(wrong).toEqual([]);
  }, 60000);
});
