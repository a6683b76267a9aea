import fs from 'node:fs';
import path from 'node:path';
import { defineCheck, opt, type OptionsOf } from '../lib/plugin/check.js';
import { declareMetrics, range } from '../lib/plugin/context.js';
import {
  DEFAULT_CERTS_DIR,
  DEFAULT_KUBECONFIG_GLOB,
  fetchServerCert,
  globFiles,
  parseHostPort,
  readCertsDir,
  readKubeconfigCerts,
  type CertInfo,
  type CertSource,
} from '../lib/host/x509.js';
import { mapBounded } from '../lib/kube/parallel.js';
import { Report } from '../lib/plugin/report.js';
import { firstFew, plural } from '../lib/plugin/result.js';
import { sanitize } from '../lib/plugin/sanitize.js';
import { State } from '../lib/plugin/state.js';

export interface Data {
  sources: CertSource[];
  /** What was looked at, for the "nothing found" line. */
  certsDir: string;
  kubeconfigGlob?: string;
}

const options = {
  'certs-dir': opt.string({ placeholder: 'DIR', default: DEFAULT_CERTS_DIR, describe: 'Every *.crt in this directory (not recursive)' }),
  'kubeconfig-glob': opt.string({
    placeholder: 'GLOB', default: DEFAULT_KUBECONFIG_GLOB,
    describe: 'Kubeconfigs whose client certificates (client-certificate-data or client-certificate) are judged; * and ? in the file name only',
    check: (s) => (/[*?[]/.test(path.dirname(s)) ? 'wildcards only in the file name' : undefined),
  }),
  kubeconfigs: opt.flag({ default: true, describe: 'Judge the kubeconfigs\' client certificates (--no-kubeconfigs: certificate files only)' }),
  server: opt.string({
    placeholder: 'HOST:PORT',
    describe: 'Also judge the certificate this TLS server presents, e.g. the API server at 127.0.0.1:16443',
    check: (s) => {
      try {
        parseHostPort(s);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  }),
};
type Options = OptionsOf<typeof options>;

const DAY = 86400_000;
/** pnp4nagios keeps each perfdata label as an RRD data source name: at most 19 characters. */
export const MAX_LABEL = 19;
// Where the microk8s snap lives: without it the default paths hold nothing.
const MICROK8S_SNAP = ['/snap/microk8s', '/var/snap/microk8s'];


/** Perfdata labels: safe characters, at most MAX_LABEL long, unique (a _2, _3 suffix when cutting makes two equal). */
export function uniqueLabels(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    const base = (n.replace(/[^A-Za-z0-9_.:-]/g, '_') || 'cert').slice(0, MAX_LABEL);
    let label = base;
    for (let i = 2; used.has(label); i++) label = `${base.slice(0, MAX_LABEL - String(i).length - 1)}_${i}`;
    used.add(label);
    return label;
  });
}

/** How a source is named in text: the file name, 'kubelet.config user kubelet', 'TLS 127.0.0.1:16443'. */
function nameOf(s: CertSource): string {
  if (s.kind === 'server') return `TLS ${sanitize(s.where, 80)}`;
  return sanitize(path.basename(s.where), 120);
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const inDays = (n: number) => (n === 0 ? 'today' : n === 1 ? 'in 1 day' : `in ${n} days`);

interface Judged {
  name: string;
  label: string;
  cert: CertInfo;
  daysLeft: number;
  state: State;
  why: 'expired' | 'not-yet-valid' | 'range' | 'ok';
}

/** At most 3 names, then 'and N more'. */
const few = (items: string[]) => firstFew(items, 3);

export function evaluateCerts(d: Data, o: Pick<Options, 'warning' | 'critical'>, now: number): ReturnType<Report['done']> {
  const r = new Report();
  // -w/-c count days left: a plain N means "fewer than N days left" (N:), as every certificate check reads it.
  const { warn, crit } = perf.options('<certificate>', o);

  const flat: { name: string; label: string; cert: CertInfo }[] = [];
  for (const s of d.sources) {
    s.certs.forEach((cert, i) => {
      const n = s.certs.length > 1 ? `#${i + 1}` : '';
      flat.push({ name: `${nameOf(s)}${n && ` ${n}`}`, label: `${s.label}${n && `_${i + 1}`}`, cert });
    });
  }
  const labels = uniqueLabels(flat.map((f) => f.label));
  const judged: Judged[] = flat.map((f, i) => {
    // Whole days, towards zero: 6.9 days left is 6, expired 2.1 days ago is -2.
    const daysLeft = Math.trunc((f.cert.notAfter - now) / DAY) || 0;
    let state = State.OK;
    let why: Judged['why'] = 'ok';
    if (f.cert.notBefore > now) { state = State.CRITICAL; why = 'not-yet-valid'; }
    else if (f.cert.notAfter <= now) { state = State.CRITICAL; why = 'expired'; }
    else if (crit?.alerts(daysLeft)) { state = State.CRITICAL; why = 'range'; }
    else if (warn?.alerts(daysLeft)) { state = State.WARNING; why = 'range'; }
    return { ...f, label: labels[i]!, daysLeft, state, why };
  });
  const bySoonest = [...judged].sort((a, b) => a.cert.notAfter - b.cert.notAfter);

  // The status line: one problem per kind, soonest first within each.
  const expired = bySoonest.filter((j) => j.why === 'expired');
  if (expired.length) {
    r.action(State.CRITICAL, renewAction(expired[0]!.name));
    r.problem(State.CRITICAL, `expired: ${few(expired.map((j) => `${j.name} on ${day(j.cert.notAfter)}`))}`);
  }
  const early = bySoonest.filter((j) => j.why === 'not-yet-valid');
  if (early.length) {
    r.action(State.CRITICAL, `${early[0]!.name} starts ${day(early[0]!.cert.notBefore)}: this host's clock is behind (timedatectl; chronyc tracking) or the certificate was made on a host whose clock is ahead; fix the clock, or reissue the certificate`);
    r.problem(State.CRITICAL, `not yet valid: ${few(early.map((j) => `${j.name} until ${day(j.cert.notBefore)}`))}`);
  }
  for (const state of [State.CRITICAL, State.WARNING]) {
    const soon = bySoonest.filter((j) => j.why === 'range' && j.state === state);
    if (soon.length) {
      const range = state === State.CRITICAL ? crit : warn;
      r.action(state, renewAction(soon[0]!.name));
      r.problem(state, `expiring: ${few(soon.map((j) => `${j.name} ${inDays(j.daysLeft)} (${day(j.cert.notAfter)})`))}`,
        `${plural(soon.length, 'certificate')} with days left outside ${state === State.CRITICAL ? '-c' : '-w'} ${range?.text ?? ''}`);
    }
  }
  const broken = d.sources.filter((s) => s.error);
  if (broken.length) {
    r.action(State.UNKNOWN, `make ${sanitize(broken[0]!.where, 200)} readable for this user (the nagios user reads microk8s's certificates through group microk8s: see README.Debian), or fix what the line says`);
    r.problem(State.UNKNOWN, `cannot judge ${few(broken.map((s) => `${nameOf(s)}: ${sanitize(s.error!, 120)}`))}`);
  }
  if (!judged.length && !broken.length) {
    const none = `no certificates found in ${sanitize(d.certsDir, 120)}/*.crt` +
      `${d.kubeconfigGlob ? ` or the kubeconfigs ${sanitize(d.kubeconfigGlob, 120)}` : ''}`;
    r.problem(State.UNKNOWN, none, none);
  }

  // Long output: every certificate, soonest first, with what it is.
  for (const j of bySoonest) {
    const when = j.why === 'not-yet-valid' ? `not valid until ${day(j.cert.notBefore)}`
      : j.why === 'expired' ? `expired ${day(j.cert.notAfter)} (${j.daysLeft === 0 ? 'today' : `${plural(-j.daysLeft, 'day')} ago`})`
        : `expires ${day(j.cert.notAfter)}, ${inDays(j.daysLeft)}`;
    r.add(j.state, `${j.name}: ${when}; subject ${sanitize(j.cert.subject, 120)}, issuer ${sanitize(j.cert.issuer, 120)}`);
  }
  for (const s of broken) r.add(State.UNKNOWN, `${sanitize(s.where, 200)}: ${sanitize(s.error!, 200)}`);

  for (const j of judged) perf.metric(r, '<certificate>', j.daysLeft, o, {}, j.label);

  const soonest = bySoonest[0];
  return r.done(soonest
    ? `${plural(judged.length, 'certificate')}, soonest expiry ${soonest.name} ${inDays(soonest.daysLeft)} (${day(soonest.cert.notAfter)})`
    : 'no certificates');
}

const perf = declareMetrics({
  '<certificate>': {
    describe: 'Days left (negative when expired) per certificate, labelled by file name (kc_NAME for kubeconfigs, tls_HOST:PORT), at most 19 characters',
    judge: range('warning', 'critical', { as: 'min' }),
  },
});

export default defineCheck({
  name: 'certs',
  title: 'CERTS',
  scope: 'node',
  nrpe: {
    args: '-t 20 -w 30 -c 7',
    kubeconfig: false,
    about:
      'Expiry of microk8s\'s certificates on this node: certs/*.crt and the client certificates in\n' +
      'credentials/*.config (WARNING under -w days, CRITICAL under -c, expired or not yet valid).\n' +
      'Add --server 127.0.0.1:16443 to judge the certificate the API server really serves.',
  },
  summary: 'Expiry of the certificates microk8s uses on this node: certs/*.crt, kubeconfig client certificates, the API server\'s',
  description:
    'Days until each certificate microk8s uses on this node expires: every *.crt in --certs-dir, the client ' +
    'certificates inside the kubeconfigs matched by --kubeconfig-glob, and with --server the certificate a TLS server ' +
    'presents (the API server: 127.0.0.1:16443). microk8s makes its CA, API server, front-proxy and kubelet ' +
    'certificates itself and `microk8s refresh-certs` renews them. The status line names the soonest expiry. Expired ' +
    'and not-yet-valid certificates are CRITICAL whatever the thresholds; a file that cannot be read or holds no ' +
    'certificate is UNKNOWN naming the file (its expiry cannot be known), while the others are still judged. -w/-c: a ' +
    'plain N alerts when fewer than N days are left. Parsed with Node\'s X509Certificate; keys are never read. The user ' +
    'running it must read the files: microk8s makes them root:microk8s, group-readable (see docs/security.md).',
  thresholds: {
    warning: '30', critical: '7',
    describe: 'days left before a certificate expires: a plain N alerts when fewer than N days are left (it means the range N:); a range with : or @ is used as written',
  },
  options,
  perfdata: perf.docs,
  examples: [
    ['$0', 'the NRPE default: /var/snap/microk8s/current/certs and credentials/*.config, warn under 30 days, critical under 7'],
    ['$0 --server 127.0.0.1:16443 -w 60 -c 14', 'also the API server\'s serving certificate, earlier alerts'],
  ],
  triage: {
    skip: () => (MICROK8S_SNAP.some((p) => fs.existsSync(p)) ? undefined : 'not a microk8s node (no /snap/microk8s)'),
  },

  async gather(ctx, o): Promise<Data> {
    const server = o.server ? fetchServerCert(o.server, ctx.signal) : undefined;
    const sources = readCertsDir(o.certsDir);
    if (o.kubeconfigs) {
      const { files } = globFiles(o.kubeconfigGlob);
      for (const found of await mapBounded(files, 4, (f) => readKubeconfigCerts(f))) sources.push(...found);
    }
    if (server) sources.push(await server);
    return { sources, certsDir: o.certsDir, kubeconfigGlob: o.kubeconfigs ? o.kubeconfigGlob : undefined };
  },

  evaluate(d, o, now) {
    return evaluateCerts(d, o, now);
  },
});

/** The renewal command for a microk8s certificate ('ca.crt' is the CA: everything signed by it changes too). */
function renewAction(name: string): string {
  const base = name.replace(/^.*\//, '');
  if (/^ca\.crt$/.test(base)) return `renew the CA on every node: sudo microk8s refresh-certs --cert ca.crt (every certificate and kubeconfig it signed is reissued: re-run make-kubeconfig.sh and restart the clients); check again`;
  if (/\.crt$/.test(base)) return `renew ${base} on this node: sudo microk8s refresh-certs --cert ${base}, then check again`;
  return `the client certificate in ${name} is issued with the kubeconfig: sudo microk8s refresh-certs --cert ca.crt reissues them; for the monitoring kubeconfig re-run /usr/share/k8s-nrpe/make-kubeconfig.sh; check again`;
}
