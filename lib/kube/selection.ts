import { UsageError } from '../plugin/errors.js';
import { opt, type OptionSpec, type OptionTable } from '../plugin/options.js';
import { sanitize } from '../plugin/sanitize.js';
import { parseState, stateName, type State } from '../plugin/state.js';
import { isKubeName, isNamespaceName, type FieldTerm } from './names.js';

/**
 * Which objects a check judges: --exclude-namespace/--exclude-name regexes and,
 * for checks that judge objects one by one, --name to judge one. Declared by a
 * check with `selection: {...}` (the core adds the options, as it adds -w/-c
 * for `thresholds`) and applied by the client to the lists the check marks
 * `selected: true`: --name as a server-side field selector, the exclusions
 * client-side as the items arrive (the API has no regex or "namespace not in"
 * selector). docs/selection.md.
 */
export interface SelectionSpec {
  /** What the check lists, plural, for the no-match line: 'workloads', 'pods'. */
  what: string;
  /** Offer --name (a check that judges objects one by one). */
  name?: boolean;
  /** false: cluster-scoped objects (nodes): no --exclude-namespace, --name has no namespace. */
  namespaced?: boolean;
}

export interface SelectionValues {
  excludeNamespace?: string[];
  excludeName?: string[];
  name?: { namespace?: string; name: string };
  unmatchedState: State;
}

/** A regex, validated when the command line is parsed: a bad one is UNKNOWN with one line. */
function regexList(describe: string): OptionSpec<string[]> {
  return opt.list({
    placeholder: 'REGEX', describe, max: 100,
    each: (s, flag) => {
      try { new RegExp(s); } catch (e) { throw new UsageError(`invalid ${flag} '${sanitize(s, 80)}': not a regular expression (${sanitize((e as Error).message, 80)})`); }
    },
  });
}

function nameOption(namespaced: boolean): OptionSpec<{ namespace?: string; name: string } | undefined> {
  return opt.custom({
    placeholder: namespaced ? '[NS/]NAME' : 'NAME',
    describe: `Judge only the object of this name${namespaced ? ' (NS/NAME: in that namespace)' : ''}; asked of the server as a field selector`,
    parse: (s, flag) => {
      const [ns, name] = namespaced && s.includes('/') ? [s.slice(0, s.indexOf('/')), s.slice(s.indexOf('/') + 1)] : [undefined, s];
      if ((ns !== undefined && !isNamespaceName(ns)) || !isKubeName(name)) {
        throw new UsageError(`invalid ${flag} '${sanitize(s, 80)}': use ${namespaced ? 'NAME or NAMESPACE/NAME' : 'NAME'} (Kubernetes names)`);
      }
      return { namespace: ns, name };
    },
  });
}

/** The options of a selection, in --help order. */
export function selectionOptions(spec: SelectionSpec): OptionTable {
  const namespaced = spec.namespaced ?? true;
  return {
    ...(spec.name && { name: nameOption(namespaced) }),
    ...(namespaced && { 'exclude-namespace': regexList(`Do not judge ${spec.what} in namespaces matching this regular expression (unanchored, as grep: ^dev- for a prefix)`) }),
    'exclude-name': regexList(`Do not judge ${spec.what} whose name matches this regular expression (unanchored, as grep)`),
    'unmatched-state': opt.custom({
      placeholder: 'STATE', default: 'unknown',
      describe: `State when no ${one(spec)} is left to judge after ${spec.name ? '--name and ' : ''}the exclusions: ok, warning, critical or unknown`,
      parse: (s, flag) => {
        const state = parseState(s);
        if (state === undefined) throw new UsageError(`invalid ${flag} '${sanitize(s, 40)}': use ok, warning, critical or unknown`);
        return state;
      },
    }),
  };
}

const one = (spec: SelectionSpec) => spec.what.replace(/s$/, '');

interface Meta { metadata?: { name?: string; namespace?: string } }

/** One run's selection: what it asks the server, what it drops, and whether anything was left. */
export class Selection {
  private readonly ns: RegExp[];
  private readonly names: RegExp[];
  private listed = false;
  private excluded = 0;
  private matched = 0;

  constructor(private readonly spec: SelectionSpec, private readonly v: SelectionValues) {
    this.ns = (v.excludeNamespace ?? []).map((s) => new RegExp(s));
    this.names = (v.excludeName ?? []).map((s) => new RegExp(s));
  }

  /** --name's object ({namespace?, name}), for a check that lists what the named object owns. */
  get target(): { namespace?: string; name: string } | undefined {
    return this.v.name;
  }

  /** The namespace to list in (--name NS/NAME), unless the check already lists one. */
  namespace(given: string | undefined): string | undefined {
    return given ?? this.v.name?.namespace;
  }

  /** Server-side terms: metadata.name for --name (and metadata.namespace when --namespace differs from NS/). */
  fieldTerms(listNamespace: string | undefined): FieldTerm[] {
    const n = this.v.name;
    if (!n) return [];
    return [['metadata.name', '=', n.name], ...(n.namespace && listNamespace !== n.namespace ? [['metadata.namespace', '=', n.namespace] as FieldTerm] : [])];
  }

  /** Called once per selected list: a list was made. */
  noteList(): void {
    this.listed = true;
  }

  /** Whether an item is judged; counts what was dropped. */
  keeps(item: Meta): boolean {
    const m = item.metadata ?? {};
    const out = (m.namespace !== undefined && this.ns.some((r) => r.test(m.namespace!))) || this.names.some((r) => r.test(m.name ?? ''));
    if (out) this.excluded++;
    else this.matched++;
    return !out;
  }

  /**
   * keeps() for one list, whose counts can be taken back: a list that starts
   * again (410 Gone, an expired continue token) must not count its items twice.
   * Lists run in parallel, so each takes back only its own.
   */
  forList(): { keeps(item: Meta): boolean; restart(): void } {
    let excluded = 0;
    let matched = 0;
    return {
      keeps: (item) => {
        const kept = this.keeps(item);
        if (kept) matched++;
        else excluded++;
        return kept;
      },
      restart: () => {
        this.excluded -= excluded;
        this.matched -= matched;
        excluded = matched = 0;
      },
    };
  }

  /**
   * The one no-match outcome: --name found nothing, or the exclusions left
   * nothing of what the server sent. An empty cluster without --name is the
   * check's own verdict, not this.
   */
  noMatch(): { state: State; summary: string } | undefined {
    if (!this.listed || this.matched > 0 || (!this.v.name && this.excluded === 0)) return undefined;
    const n = this.v.name;
    const which = n ? `--name ${n.namespace ? `${n.namespace}/` : ''}${n.name}` : 'the exclusions';
    const dropped = this.excluded ? ` (${this.excluded} excluded by --exclude-namespace/--exclude-name)` : '';
    return { state: this.v.unmatchedState, summary: `no ${one(this.spec)} matched ${which}${dropped}: nothing judged (--unmatched-state ${stateName(this.v.unmatchedState).toLowerCase()})` };
  }
}
