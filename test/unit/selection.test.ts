import { describe, expect, it } from 'vitest';
import pdb from '../../checks/pdb.js';
import nodes from '../../checks/nodes.js';
import { Selection, type SelectionValues } from '../../lib/kube/selection.js';
import { parseArgs } from '../../lib/plugin/args.js';
import type { AnyCheck } from '../../lib/plugin/check.js';
import { UsageError } from '../../lib/plugin/errors.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions } from './support.js';

const obj = (namespace: string | undefined, name: string) => ({ metadata: { namespace, name } });
const sel = async (args: string[], check: AnyCheck = pdb) => {
  const o = await checkOptions(check, args);
  return new Selection(check.selection!, o as unknown as SelectionValues);
};

describe('selection (--name, --exclude-namespace, --exclude-name)', () => {
  it('matches regexes unanchored, as grep, namespaces and names apart; every pattern counts', async () => {
    const s = await sel(['--exclude-namespace', 'dev', '--exclude-name', '^tmp-', '--exclude-name', 'canary$']);
    expect(s.keeps(obj('dev-a', 'web'))).toBe(false); // 'dev' inside: unanchored
    expect(s.keeps(obj('apps-dev', 'web'))).toBe(false);
    expect(s.keeps(obj('apps', 'tmp-1'))).toBe(false);
    expect(s.keeps(obj('apps', 'x-tmp-1'))).toBe(true); // ^ anchors when asked
    expect(s.keeps(obj('apps', 'web-canary'))).toBe(false);
    expect(s.keeps(obj('apps', 'dev'))).toBe(true); // a namespace regex does not match names
    s.noteList();
    expect(s.noMatch()).toBeUndefined();
  });

  it('a list that starts again takes back only its own counts (lists run in parallel)', async () => {
    const s = await sel(['--exclude-name', '^tmp-']);
    const a = s.forList();
    const b = s.forList();
    a.keeps(obj('apps', 'tmp-1'));
    b.keeps(obj('apps', 'tmp-2'));
    a.restart(); // a's first page again: tmp-1 will come back
    a.keeps(obj('apps', 'tmp-1'));
    s.noteList();
    expect(s.noMatch()?.summary).toBe('no PodDisruptionBudget matched the exclusions (2 excluded by --exclude-namespace/--exclude-name): nothing judged (--unmatched-state unknown)');
    b.keeps(obj('apps', 'web'));
    expect(s.noMatch()).toBeUndefined();
  });

  it('turns --name into field selector terms and a namespace; none without it', async () => {
    const s = await sel(['--name', 'apps/db']);
    expect(s.namespace(undefined)).toBe('apps');
    expect(s.namespace('other')).toBe('other');
    expect(s.fieldTerms('apps')).toEqual([['metadata.name', '=', 'db']]);
    // --namespace other --name apps/db: the server gets both, and answers nothing.
    expect(s.fieldTerms('other')).toEqual([['metadata.name', '=', 'db'], ['metadata.namespace', '=', 'apps']]);
    expect((await sel(['--name', 'db'])).namespace(undefined)).toBeUndefined();
    expect((await sel([])).fieldTerms(undefined)).toEqual([]);
  });

  it('has one no-match outcome: --name found nothing, or the exclusions left nothing; UNKNOWN unless --unmatched-state says', async () => {
    const named = await sel(['--name', 'apps/db']);
    named.noteList();
    expect(named.noMatch()).toEqual({ state: State.UNKNOWN, summary: 'no PodDisruptionBudget matched --name apps/db: nothing judged (--unmatched-state unknown)' });
    const all = await sel(['--exclude-namespace', '.', '--unmatched-state', 'ok']);
    all.noteList();
    all.keeps(obj('a', 'x'));
    all.keeps(obj('b', 'y'));
    expect(all.noMatch()).toEqual({ state: State.OK, summary: 'no PodDisruptionBudget matched the exclusions (2 excluded by --exclude-namespace/--exclude-name): nothing judged (--unmatched-state ok)' });
    // An empty list without --name is the check's own verdict; so is a selection never listed.
    const empty = await sel(['--exclude-name', 'x']);
    empty.noteList();
    expect(empty.noMatch()).toBeUndefined();
    expect((await sel(['--name', 'db'])).noMatch()).toBeUndefined();
    const one = await sel(['--name', 'db']);
    one.noteList();
    one.keeps(obj('apps', 'db'));
    expect(one.noMatch()).toBeUndefined();
  });

  it('refuses a bad regex, a bad name and a bad state when parsing, with one line', async () => {
    await expect(parseArgs(pdb, ['--exclude-name', '(x'])).rejects.toThrow(UsageError);
    await expect(parseArgs(pdb, ['--exclude-name', '(x'])).rejects.toThrow(/^invalid --exclude-name '\(x': not a regular expression \(/);
    await expect(parseArgs(pdb, ['--exclude-namespace', '[a-'])).rejects.toThrow(/^invalid --exclude-namespace/);
    await expect(parseArgs(pdb, ['--name', 'Apps/DB'])).rejects.toThrow("invalid --name 'Apps/DB': use NAME or NAMESPACE/NAME (Kubernetes names)");
    await expect(parseArgs(pdb, ['--unmatched-state', 'maybe'])).rejects.toThrow("invalid --unmatched-state 'maybe': use ok, warning, critical or unknown");
    await expect(parseArgs(pdb, ['--exclude-name', ''])).rejects.toThrow(UsageError);
  });

  it('offers cluster-scoped checks --exclude-name and a --name without namespace only', async () => {
    await expect(parseArgs(nodes, ['--exclude-namespace', 'x'])).rejects.toThrow(/exclude-namespace/);
    await expect(parseArgs(nodes, ['--name', 'a/b'])).rejects.toThrow("invalid --name 'a/b': use NAME (Kubernetes names)");
    const s = await sel(['--name', 'k8s01', '--exclude-name', '^k8s0[23]$'], nodes);
    expect(s.fieldTerms(undefined)).toEqual([['metadata.name', '=', 'k8s01']]);
    expect(s.keeps(obj(undefined, 'k8s02'))).toBe(false);
    expect(s.keeps(obj(undefined, 'k8s01'))).toBe(true);
  });
});
