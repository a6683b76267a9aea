import type { Options as YargsOption } from 'yargs';
import { formatDuration, parseDuration } from './duration.js';
import { UsageError } from './errors.js';
import { parseRange, type Range } from './range.js';
import { sanitize } from './sanitize.js';
import { isKubeName, isLabelSelector, isNamespaceName, isNodeName } from '../kube/names.js';

/**
 * One command-line option, declared once: how yargs reads it, how its text
 * becomes a typed value (validation included), and what --help, the man page
 * and shell completion say about it. Every check's options and the common
 * ones are built from these, so the same kind of value gets the same rules
 * and the same error line everywhere.
 */
export interface OptionSpec<T> {
  /** What --help and the man page print after the flag: DURATION, RANGE, NAME... */
  placeholder?: string;
  describe: string;
  /** The default as the operator would type it (help text and yargs). */
  default?: string | number | boolean;
  alias?: string;
  choices?: readonly string[];
  /** Repeatable (--pattern a --pattern b). */
  repeatable?: boolean;
  /** Boolean flags: --x and --no-x. */
  boolean?: boolean;
  /** yargs 'count' (-v -vv -vvv). */
  count?: boolean;
  /** Raw value (after yargs) -> typed value. `flag` is '--name' for error lines. */
  parse(raw: unknown, flag: string): T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOption = OptionSpec<any>;
export type OptionTable = Record<string, AnyOption>;

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** The typed values of an option table: 'min-age' -> minAge. */
export type OptionValues<O extends OptionTable> = { [K in keyof O as Camel<K & string>]: O[K] extends OptionSpec<infer V> ? V : never };

/** An option as a person types it shortest: '-w', '--node'. */
export function shortFlag(name: string, spec: AnyOption | undefined): string {
  return spec?.alias ? `-${spec.alias}` : `--${name}`;
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function yargsOption(spec: AnyOption): YargsOption {
  const y: YargsOption = { describe: spec.describe };
  if (spec.count) y.type = 'count';
  else if (spec.boolean) y.type = 'boolean';
  else y.type = 'string';
  if (spec.alias) y.alias = spec.alias;
  // Repeatable options are collected from argv by the parser (collectRepeated): yargs keeps the last.
  // An explicit `default: undefined` would make yargs swallow a bare flag: set it only when there is one.
  if (spec.default !== undefined && !spec.repeatable) y.default = spec.boolean ? spec.default : String(spec.default);
  return y;
}

/** The one text an option was given, or undefined; twice is an error, empty is an error. */
function text(raw: unknown, flag: string, what: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) throw new UsageError(`${flag} given more than once`);
  const s = String(raw);
  // The classic '-w $ARG1$' with an empty ARG1: an error, never "use the default".
  if (s.trim() === '') throw new UsageError(`${flag} needs ${what}`);
  return s;
}

const NEEDS: Record<string, string> = {
  RANGE: 'a range (e.g. 10, ~:10, @5:10)',
  DURATION: 'a duration (e.g. 90s, 5m)',
  N: 'a number',
};

const shown = (v: string) => sanitize(v, 80);

interface Base<D> {
  describe: string;
  default?: D;
}

/** Declaring an option without a default makes its value possibly undefined. */
type Maybe<D, T> = undefined extends D ? T | undefined : T;

function scalar<T, D extends string | number | undefined>(
  placeholder: string,
  o: Base<D> & { alias?: string },
  convert: (s: string, flag: string) => T,
): OptionSpec<Maybe<D, T>> {
  return {
    placeholder,
    describe: o.describe,
    default: o.default,
    alias: o.alias,
    parse: (raw, flag) => {
      if (placeholder === 'RANGE' && typeof raw === 'string' && raw.trim() === '') {
        throw new UsageError(`${flag}: invalid range '' (empty): give a range like 10, ~:10 or @5:10`);
      }
      const s = text(raw, flag, NEEDS[placeholder] ?? 'a value');
      return (s === undefined ? undefined : convert(s, flag)) as Maybe<D, T>;
    },
  };
}

export const opt = {
  /** Seconds, from 90, 90s, 5m, 1h30m. `min`/`max` in seconds (min defaults to 0; use 1 for windows). */
  duration<D extends string | undefined = undefined>(o: Base<D> & { min?: number; max?: number; alias?: string }) {
    return scalar('DURATION', o, (s, flag) => {
      const v = parseDuration(s, flag);
      const min = o.min ?? 0;
      if (v < min || (o.max !== undefined && v > o.max)) {
        const bounds = o.max !== undefined ? `from ${formatDuration(min)} to ${formatDuration(o.max)}` : min > 0 ? `at least ${formatDuration(min)}` : 'not negative';
        throw new UsageError(`invalid ${flag} '${shown(s)}': must be ${bounds}`);
      }
      return v;
    });
  },

  /** A Monitoring Plugins range: 10, 10:, ~:10, 10:20, @10:20. */
  range<D extends string | undefined = undefined>(o: Base<D> & { alias?: string }) {
    return scalar('RANGE', o, (s, flag) => {
      try {
        return parseRange(s, flag);
      } catch (e) {
        throw new UsageError(`${flag}: ${(e as Error).message}`);
      }
    });
  },

  /** A whole number within bounds. */
  int<D extends number | undefined = undefined>(o: Base<D> & { min?: number; max?: number }) {
    return scalar('N', o, (s, flag) => {
      const v = Number(s);
      if (!/^[+-]?\d+$/.test(s.trim()) || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) {
        const bounds = [o.min !== undefined && `${o.min}`, o.max !== undefined && `${o.max}`].filter(Boolean).join(' to ');
        throw new UsageError(`invalid ${flag} '${shown(s)}': use a whole number${bounds ? ` from ${bounds}` : ''}`);
      }
      return v;
    });
  },

  /** Free text (non-empty); `check` may refuse it with the reason why. */
  string<D extends string | undefined = undefined>(o: Base<D> & { placeholder?: string; check?: (s: string) => string | undefined }) {
    return scalar(o.placeholder ?? 'TEXT', o, (s, flag) => {
      const why = o.check?.(s);
      if (why) throw new UsageError(`invalid ${flag} '${shown(s)}': ${why}`);
      return s;
    });
  },

  /** A value parsed by a function of the check's (it throws UsageError). */
  custom<T, D extends string | undefined = undefined>(o: Base<D> & { placeholder: string; parse: (s: string, flag: string) => T }) {
    return scalar(o.placeholder, o, o.parse);
  },

  /** A Kubernetes object name (DNS-1123 subdomain): it goes into a URL path. */
  name<D extends string | undefined = undefined>(o: Base<D>) {
    return scalar('NAME', o, (s, flag) => {
      if (!isKubeName(s)) throw new UsageError(`invalid ${flag} '${shown(s)}': not a Kubernetes object name (lowercase letters, digits, '-' and '.')`);
      return s;
    });
  },

  /** A namespace (DNS-1123 label). */
  namespace<D extends string | undefined = undefined>(o: Base<D>) {
    return scalar('NAMESPACE', o, (s, flag) => {
      if (!isNamespaceName(s)) throw new UsageError(`invalid ${flag} '${shown(s)}': not a namespace name (lowercase letters, digits and '-', at most 63)`);
      return s;
    });
  },

  /** A node name: it goes into field selectors (spec.nodeName=NAME) and URLs. */
  node<D extends string | undefined = undefined>(o: Base<D>) {
    return scalar('NODE', o, (s, flag) => {
      if (!isNodeName(s)) throw new UsageError(`invalid ${flag} '${shown(s)}': a node name is lowercase letters, digits, '-' and '.'`);
      return s;
    });
  },

  /**
   * The node a node-scoped check judges: this host's unless given. Unset, the
   * check finds it with the API (lib/kube/this-node.ts: node name, short
   * hostname, FQDN, kubernetes.io/hostname label or Hostname address).
   */
  localNode(o: { describe: string }) {
    return opt.node({ describe: `${o.describe} (default: the node this host is, matched by its hostname, short name or FQDN)` });
  },

  /** A label selector as kubectl takes it (a=b,c!=d,e in (f,g),!h). */
  labelSelector<D extends string | undefined = undefined>(o: Base<D>) {
    return scalar('SELECTOR', o, (s, flag) => {
      if (!isLabelSelector(s)) throw new UsageError(`invalid ${flag} '${shown(s)}': not a label selector (e.g. k8s-app=kube-dns)`);
      return s;
    });
  },

  /** One of a fixed set of words. */
  choice<const C extends readonly string[], D extends C[number] | undefined = undefined>(choices: C, o: Base<D>) {
    const spec = scalar(choices.join('|'), o, (s, flag) => {
      if (!choices.includes(s)) throw new UsageError(`invalid ${flag} '${shown(s)}': use ${choices.join(', ')}`);
      return s as C[number];
    });
    return { ...spec, choices };
  },

  /** On/off; --no-NAME turns a default-on flag off. */
  flag(o: Base<boolean>): OptionSpec<boolean> {
    return {
      describe: o.describe,
      default: o.default ?? false,
      boolean: true,
      parse: (raw, flag) => {
        if (Array.isArray(raw)) throw new UsageError(`${flag} given more than once`);
        return raw === undefined ? (o.default ?? false) : Boolean(raw);
      },
    };
  },

  /**
   * Repeatable (--x a --x b); with `commas`, a,b in one value counts as two.
   * `each` validates every item.
   */
  list(o: Base<readonly string[]> & { placeholder?: string; commas?: boolean; max?: number; each?: (s: string, flag: string) => void }): OptionSpec<string[]> {
    return {
      placeholder: o.placeholder ?? 'TEXT',
      describe: o.describe,
      repeatable: true,
      parse: (raw, flag) => {
        if (raw === undefined) return [...(o.default ?? [])];
        const given = (Array.isArray(raw) ? raw : [raw]).map(String);
        const items = o.commas ? given.flatMap((g) => g.split(',')).map((s) => s.trim()) : given;
        if (items.some((s) => s.trim() === '')) throw new UsageError(`${flag} needs ${o.placeholder ? `a ${o.placeholder.toLowerCase()}` : 'a value'}`);
        if (o.max !== undefined && items.length > o.max) throw new UsageError(`too many ${flag} values (${items.length}): at most ${o.max}`);
        for (const s of items) o.each?.(s, flag);
        return [...new Set(items)];
      },
    };
  },
};

/** `each` for opt.list of Kubernetes names. */
export function eachName(what: 'name' | 'namespace'): (s: string, flag: string) => void {
  return (s, flag) => {
    const ok = what === 'namespace' ? isNamespaceName(s) : isKubeName(s);
    if (!ok) throw new UsageError(`invalid ${flag} '${shown(s)}': not a Kubernetes ${what === 'namespace' ? 'namespace' : 'object'} name`);
  };
}

export type { Range };
