// `--format json` and `triage --json` against docs/k8s-nrpe.schema.json:
// every check the binary lists, on the incident and the healthy cluster and
// on bad input, and triage. The schema is checked by a validator for the
// subset of JSON Schema 2020-12 it uses (no dependency); the validator must
// reject what the schema forbids, or the rest would prove nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, apiServers, runBuilt, type ApiServer, type CheckRun } from '../harness.js';
import { dqliteEntry, journalRemoteMissing, writeJournal } from '../journal-fixture.js';
// @ts-expect-error: plain JS, the generators' model of the declarations (man pages, README)
import { loadModel } from '../../scripts/contrib.mjs';

type Json = unknown;
type Schema = Record<string, Json>;
const SCHEMA = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/k8s-nrpe.schema.json'), 'utf8')) as Schema;
const KEYWORDS = new Set(['$schema', '$id', '$defs', '$ref', 'title', 'description', 'type', 'enum', 'const', 'required',
  'properties', 'additionalProperties', 'items', 'oneOf', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern']);

const typeOf = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isType = (v: Json, t: string): boolean => (t === 'integer' ? Number.isInteger(v) : t === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeOf(v) === t);

/** Errors of `value` against `schema` (a subset of draft 2020-12: the keywords in KEYWORDS). */
function validate(value: Json, schema: Schema, at = '$', root: Schema = SCHEMA): string[] {
  for (const k of Object.keys(schema)) if (!KEYWORDS.has(k)) throw new Error(`the test's validator does not know keyword ${k} (${at})`);
  const errs: string[] = [];
  if (schema.$ref !== undefined) {
    const ref = String(schema.$ref);
    if (!ref.startsWith('#/')) throw new Error(`only local $ref: ${ref}`);
    const target = ref.slice(2).split('/').reduce<Json>((o, k) => (o as Record<string, Json>)?.[k], root) as Schema | undefined;
    if (!target) throw new Error(`unresolved $ref ${ref}`);
    errs.push(...validate(value, target, at, root));
  }
  if (schema.type !== undefined) {
    const types = ([] as string[]).concat(schema.type as string | string[]);
    if (!types.some((t) => isType(value, t))) return [...errs, `${at}: ${JSON.stringify(value)?.slice(0, 60)} is not ${types.join(' or ')}`];
  }
  if (schema.enum !== undefined && !(schema.enum as Json[]).some((e) => e === value)) errs.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if (schema.const !== undefined && schema.const !== value) errs.push(`${at}: not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < Number(schema.minimum)) errs.push(`${at}: ${value} < ${schema.minimum}`);
    if (schema.maximum !== undefined && value > Number(schema.maximum)) errs.push(`${at}: ${value} > ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (schema.minLength !== undefined && len < Number(schema.minLength)) errs.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && len > Number(schema.maxLength)) errs.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(String(schema.pattern), 'u').test(value)) errs.push(`${at}: ${JSON.stringify(value.slice(0, 60))} does not match ${schema.pattern}`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, Json>;
    for (const k of (schema.required as string[] | undefined) ?? []) if (!(k in obj)) errs.push(`${at}: no ${k}`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errs.push(...validate(v, props[k]!, `${at}.${k}`, root));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected ${k}`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errs.push(...validate(v, schema.items as Schema, `${at}[${i}]`, root)));
  if (schema.oneOf) {
    const passing = (schema.oneOf as Schema[]).filter((s) => !validate(value, s, at, root).length).length;
    if (passing !== 1) errs.push(`${at}: matches ${passing} of oneOf's ${(schema.oneOf as Schema[]).length} schemas`);
  }
  return errs;
}

const def = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];

/** One JSON document on one line, valid, and saying what the exit status says. */
function expectValid(r: CheckRun, kind: 'check' | 'triage', what: string): Record<string, Json> {
  expect(r.stdout.endsWith('\n') && r.stdout.indexOf('\n') === r.stdout.length - 1, `${what}: one line\n${r.stdout}`).toBe(true);
  const doc = JSON.parse(r.stdout) as Record<string, Json>;
  expect(validate(doc, def(kind)), `${what}\n${r.stdout.slice(0, 2000)}`).toEqual([]);
  expect(validate(doc, SCHEMA), what).toEqual([]);
  expect(doc.exitCode, what).toBe(r.code);
  expect(doc.state, what).toBe(STATES[r.code!]);
  return doc;
}

describe('the validator', () => {
  const good = { check: 'x', state: 'OK', exitCode: 0, summary: 's', perfdata: [{ label: 'a', value: 1, uom: 's', warn: null, crit: '5', min: 0, max: null }], actions: [{ state: 'CRITICAL', text: 'restart kubelite on k8s02' }], findings: [{ state: null, text: 't' }] };
  it('accepts a well-formed check result and rejects each kind of error the schema forbids', () => {
    expect(validate(good, def('check'))).toEqual([]);
    const bad: [string, Json][] = [
      ['state as a number', { ...good, state: 2 }],
      ['a missing field', { ...good, summary: undefined }],
      ['an extra field', { ...good, extra: 1 }],
      ['a | in the summary', { ...good, summary: 'a | b' }],
      ['a newline in a finding', { ...good, findings: [{ state: 'OK', text: 'a\nb' }] }],
      ['an action without a state', { ...good, actions: [{ state: null, text: 'do x' }] }],
      ['a | in an action', { ...good, actions: [{ state: 'WARNING', text: 'a | b' }] }],
      ['exitCode 4', { ...good, exitCode: 4 }],
      ['a unit the guidelines do not have', { ...good, perfdata: [{ ...good.perfdata[0], uom: 'kB' }] }],
      ['a string value', { ...good, perfdata: [{ ...good.perfdata[0], value: '1' }] }],
      ['a bad check name', { ...good, check: 'Check Name' }],
    ];
    for (const [what, doc] of bad) expect(validate(JSON.parse(JSON.stringify(doc)), def('check')), what).not.toEqual([]);
  });

  it('rejects triage rows with integer states (the 0.1.0 format) and matches exactly one top-level schema', () => {
    const row = { check: 'x', state: 'CRITICAL', exitCode: 2, summary: 's', actions: [], findings: [], ms: 3 };
    const triage = { host: 'h', node: null, state: 'CRITICAL', exitCode: 2, checks: [row], skipped: [{ check: 'y', reason: 'r' }] };
    expect(validate(triage, def('triage'))).toEqual([]);
    expect(validate(triage, SCHEMA)).toEqual([]);
    expect(validate({ ...triage, checks: [{ ...row, state: 2 }] }, def('triage'))).not.toEqual([]);
    expect(validate(good, SCHEMA)).toEqual([]);
    expect(validate({ ...good, checks: [] }, SCHEMA)).not.toEqual([]);
  });
});

describe('--format json and triage --json', () => {
  const start = apiServers();
  let incident: ApiServer;
  let healthy: ApiServer;
  let checks: string[] = [];
  let takesNode = new Set<string>();
  let journalArgs: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-nrpe-json-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  beforeAll(async () => {
    [incident, healthy] = await Promise.all([start('incident'), start('healthy')]);
    checks = (await runBuilt('k8s-nrpe', ['--list'])).stdout.split('\n').filter(Boolean);
    for (const c of checks) if (/--node\b/.test((await runBuilt(c, ['--help'])).stdout)) takesNode.add(c);
    // dqlite reads a journal directory (as the demo does) rather than this machine's journal.
    if (!journalRemoteMissing()) {
      const now = Date.now();
      writeJournal(path.join(tmp, 'journal'), Array.from({ length: 12 }, (_, k) => dqliteEntry(now - 10000 - k * 7000, 'error', 'error in txn: query (try: 0): context canceled')));
      journalArgs = ['--journal-directory', path.join(tmp, 'journal')];
    }
  }, 120000);

  const argsFor = (c: string, server: ApiServer) => ['--kubeconfig', server.kubeconfig, '--format', 'json',
    ...(takesNode.has(c) ? ['--node', 'k8s02'] : []), ...(c === 'dqlite' ? journalArgs : [])];

  const printed = new Map<string, Set<string>>();
  const units = new Map<string, string>();
  const pagedWithAction = new Set<string>();
  it('every check on the incident and healthy clusters', async () => {
    expect(checks.length).toBeGreaterThan(0);
    const states = new Set<Json>();
    for (const server of [incident, healthy]) {
      const runs = await Promise.all(checks.map((c) => runBuilt(c, argsFor(c, server), { timeoutMs: 60000 })));
      runs.forEach((r, i) => {
        const doc = expectValid(r, 'check', `${checks[i]} on ${server === incident ? 'incident' : 'healthy'}`);
        expect(doc.check).toBe(checks[i]);
        states.add(doc.state);
        // Every page says what to do: a WARNING or CRITICAL verdict carries its next step.
        if (doc.state === 'WARNING' || doc.state === 'CRITICAL') {
          expect((doc.actions as { state: string; text: string }[]).length, `${checks[i]}: ${doc.summary}`).toBeGreaterThan(0);
          pagedWithAction.add(checks[i]!);
        }
        const perf = doc.perfdata as { label: string; uom: string }[];
        printed.set(checks[i]!, new Set([...(printed.get(checks[i]!) ?? []), ...perf.map((p) => p.label)]));
        for (const p of perf) units.set(`${checks[i]}\0${p.label}`, p.uom);
      });
    }
    // The incident makes checks CRITICAL, the healthy cluster OK: both shapes were validated.
    expect(states.has('CRITICAL') && states.has('OK'), [...states].join(',')).toBe(true);
    // The incident pages most checks: each of them said what to do.
    expect(pagedWithAction.size).toBeGreaterThanOrEqual(8);
  }, 180000);

  // Guidelines: every metric documented (man page, README: from the declarations), and labels
  // unique in their first 19 characters (RRD-based graphers cut them there).
  it('every perfdata label printed is declared in its check\'s perfdata docs, and unique in 19 characters', async () => {
    const model = (await loadModel()) as { checks: { name: string; perfdata: { label: string; uom?: string }[] }[] };
    const problems: string[] = [];
    const declaredDocs = (check: string) => model.checks.find((c) => c.name === check)!.perfdata;
    for (const [check, labels] of printed) {
      const declared = model.checks.find((c) => c.name === check)!.perfdata.map((p) => p.label);
      // 'renew_age_<lease>' stands for renew_age_kube-scheduler and the like.
      const patterns = declared.map((d) => new RegExp(`^${d.split(/<[^>]+>/).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`));
      for (const l of labels) {
        const i = patterns.findIndex((p) => p.test(l));
        if (i < 0) problems.push(`${check}: ${l} is not documented (perfdata: { ... } in checks/${check}.ts)`);
        // A declared unit is the one printed (the man page says so).
        else if ((declaredDocs(check)[i]?.uom ?? '') !== units.get(`${check}\0${l}`) && declaredDocs(check)[i]?.uom !== undefined) {
          problems.push(`${check}: ${l} is printed in '${units.get(`${check}\0${l}`)}', declared in '${declaredDocs(check)[i]?.uom}'`);
        }
      }
      const seen = new Map<string, string>();
      for (const l of labels) {
        const k = l.slice(0, 19);
        if (seen.has(k) && seen.get(k) !== l) problems.push(`${check}: ${seen.get(k)} and ${l} share their first 19 characters`);
        seen.set(k, l);
      }
    }
    expect(printed.size).toBe(checks.length);
    expect(problems).toEqual([]);
  });

  it('every check on bad input: an empty -w, no kubeconfig', async () => {
    const runs = await Promise.all(checks.flatMap((c) => [
      runBuilt(c, ['-w', '', '--format', 'json']),
      runBuilt(c, ['--kubeconfig', path.join(tmp, 'missing.yaml'), '--format', 'json', ...(c === 'dqlite' ? journalArgs : [])]),
    ]));
    runs.forEach((r, i) => expectValid(r, 'check', `${checks[i >> 1]} ${i % 2 ? 'missing kubeconfig' : "-w ''"}`));
  }, 120000);

  it('triage --json: states as names, exitCode beside them', async () => {
    const r = await runBuilt('k8s-nrpe', ['triage', '--kubeconfig', incident.kubeconfig, '--node', 'k8s02', '--json', '--skip', 'dqlite,calico_nat'], { timeoutMs: 60000 });
    const doc = expectValid(r, 'triage', 'triage --json');
    const rows = doc.checks as { state: string; exitCode: number }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.state).toBe(STATES[row.exitCode]);
  }, 120000);
});
