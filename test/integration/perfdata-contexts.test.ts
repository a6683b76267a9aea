// Docs and behaviour cannot drift: every perfdata label a check writes is
// declared, and every judged metric's warn/crit in the output are what its
// declared context (lib/plugin/context.ts) makes of the options the run was
// given: the same declaration --help, the man page and README print.
//
// Each check runs as NRPE runs it (test/sweep.ts) against the healthy and the
// incident scenarios, with --format json; certs gets the double's own
// certificates as in the sweep. dqlite, dqlite_cluster, calico_nat and node_health
// read this host (a journal, a dqlite cluster, a network namespace, /proc/sys) and canary is
// opt-in, so their output is not run here: for them (as for all) the first
// case holds every context to options the check has, and
// test/unit/context.test.ts holds what a context makes of options.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { mapBounded } from '../../lib/kube/parallel.js';
import { allOptions } from '../../lib/plugin/args.js';
import { camel } from '../../lib/plugin/options.js';
import { contextOptions, contextRanges, declaredKey, kebab } from '../../lib/plugin/context.js';
import { apiServers, tempDir, type ApiServer } from '../harness.js';
import { checkOptions } from '../unit/support.js';
import { listChecks, nrpeOptions, offersNode, runAsNrpe, SWEEP_NODE } from '../sweep.js';

const HOST_INPUT = new Set(['dqlite', 'dqlite_cluster', 'calico_nat', 'node_health']);

interface JsonPerf { label: string; warn: string | null; crit: string | null }

describe('perfdata contexts: declared, and judged with the declared options', () => {
  const start = apiServers();
  let servers: ApiServer[];
  let certs: string;

  beforeAll(async () => {
    servers = await Promise.all([start('healthy'), start('incident')]);
    certs = tempDir('k8s-nrpe-contexts-');
    for (const f of ['ca.crt', 'server.crt', 'client.crt']) fs.copyFileSync(path.join(servers[0]!.dir, f), path.join(certs, f));
  }, 120_000);
  afterAll(() => fs.rmSync(certs, { recursive: true, force: true }));

  it('every context names options its check has, and they round-trip as flags', () => {
    for (const c of CHECKS) {
      const table = allOptions(c);
      for (const [label, doc] of Object.entries(c.perfdata ?? {})) {
        for (const k of contextOptions(doc.judge)) {
          expect(table[kebab(k)], `${c.name} ${label}: --${kebab(k)}`).toBeDefined();
          expect(camel(kebab(k)), `${c.name} ${label}: ${k}`).toBe(k);
        }
      }
    }
  });

  it('every label written is declared; judged ones carry the ranges their context gives', async () => {
    const checks = (await listChecks()).filter((c) => !HOST_INPUT.has(c));
    expect(checks.length).toBeGreaterThan(10);
    const jobs = servers.flatMap((s) => checks.map((c) => ({ s, c })));
    const extra = (c: string) => (c === 'certs' ? ['--certs-dir', certs, '--kubeconfig-glob', servers[0]!.kubeconfig] : []);
    const runs = await mapBounded(jobs, 4, ({ s, c }) => runAsNrpe(c, s, [...extra(c), '--format', 'json']));
    let judged = 0;
    for (const [i, run] of runs.entries()) {
      const { c } = jobs[i]!;
      const check = CHECKS.find((x) => x.name === c)!;
      const node = (await offersNode(c)) ? ['--node', SWEEP_NODE] : [];
      const o = await checkOptions(check, [...nrpeOptions(c), ...node, ...extra(c)]);
      const docs = check.perfdata ?? {};
      const out = JSON.parse(run.stdout) as { perfdata: JsonPerf[] };
      expect(out.perfdata.length, `${c}: ${run.firstLine}`).toBeGreaterThan(0);
      for (const p of out.perfdata) {
        const key = declaredKey(p.label, Object.keys(docs));
        expect(key, `${c}: perfdata '${p.label}' is not declared`).toBeDefined();
        const ctx = docs[key!]!.judge;
        if (ctx?.kind === 'each') {
          // Judged per item by one of the options it names.
          const given = ctx.options.map((k) => (o as Record<string, unknown>)[k]).filter((v) => v !== undefined).map(String);
          // Unset, each item has its own default (a lease's): the check's own tests judge those.
          for (const t of [p.warn, p.crit]) if (t !== null && given.length) expect(given.some((g) => g === t || t === `${Number(g)}`), `${c} ${p.label}: ${t}`).toBe(true);
          continue;
        }
        const want = contextRanges(ctx, o);
        expect({ warn: p.warn, crit: p.crit }, `${c} ${p.label}`).toEqual({ warn: want.warn?.text ?? null, crit: want.crit?.text ?? null });
        if (want.warn || want.crit) judged++;
      }
    }
    expect(judged).toBeGreaterThan(20);
  }, 300_000);
});
