import { describe, expect, it } from 'vitest';
import certs, { evaluateCerts, uniqueLabels, type Data } from '../../checks/certs.js';
import { parseCertificates, parseHostPort, type CertInfo, type CertSource } from '../../lib/host/x509.js';
import { contextRanges } from '../../lib/plugin/context.js';
import { parseRange, type Range } from '../../lib/plugin/range.js';
import { renderNagios } from '../../lib/plugin/render.js';
import { outcomeState } from '../../lib/plugin/result.js';
import { State } from '../../lib/plugin/state.js';
import { checkOptions } from './support.js';

const NOW = Date.parse('2026-06-05T06:29:00Z');
const DAY = 86400_000;

const cert = (fromDays: number, toDays: number, cn = 'x'): CertInfo => ({
  subject: `CN=${cn}`, issuer: 'CN=10.152.183.1', notBefore: NOW + fromDays * DAY, notAfter: NOW + toDays * DAY, fingerprint: 'AA:BB',
});
const file = (name: string, ...c: CertInfo[]): CertSource => ({ kind: 'file', where: `/var/snap/microk8s/current/certs/${name}.crt`, label: name, certs: c });
const data = (...sources: CertSource[]): Data => ({ sources, certsDir: '/var/snap/microk8s/current/certs', kubeconfigGlob: '/var/snap/microk8s/current/credentials/*.config' });

const judge = async (d: Data, ...argv: string[]) => {
  const o = await checkOptions(certs, argv);
  const out = evaluateCerts(d, o, NOW);
  return { out, state: outcomeState(out), text: renderNagios(out, { title: 'CERTS', verbose: 1 }) };
};

// -w/-c as the declared context reads them (range(..., { as: 'min' }), lib/plugin/context.ts).
const daysRange = (r?: Range) => contextRanges(certs.perfdata!['<certificate>']!.judge, { warning: r }).warn;

describe('check_k8s_certs thresholds and labels', () => {
  it('reads a plain N as "fewer than N days", any range as written', () => {
    expect(daysRange(parseRange('30'))!.text).toBe('30:');
    expect(daysRange(parseRange('30'))!.alerts(29)).toBe(true);
    expect(daysRange(parseRange('30'))!.alerts(30)).toBe(false);
    expect(daysRange(parseRange('10:'))!.text).toBe('10:');
    expect(daysRange(parseRange('@0:5'))!.text).toBe('@0:5');
    expect(daysRange(undefined)).toBeUndefined();
  });

  it('makes labels safe, at most 19 characters and unique', () => {
    expect(uniqueLabels(['ca', 'server', 'front-proxy-client'])).toEqual(['ca', 'server', 'front-proxy-client']);
    expect(uniqueLabels(['front-proxy-client-aaaa', 'front-proxy-client-bbbb', 'front-proxy-client-cccc']))
      .toEqual(['front-proxy-client-', 'front-proxy-clien_2', 'front-proxy-clien_3']);
    expect(uniqueLabels(["we'ird = name", ''])).toEqual(['we_ird___name', 'cert']);
    for (const l of uniqueLabels(Array.from({ length: 30 }, () => 'a'.repeat(40)))) expect(l.length).toBeLessThanOrEqual(19);
  });

  it('parses HOST:PORT and refuses the rest', () => {
    expect(parseHostPort('127.0.0.1:16443')).toEqual({ host: '127.0.0.1', port: 16443 });
    expect(parseHostPort('[::1]:16443')).toEqual({ host: '::1', port: 16443 });
    expect(parseHostPort('k8s01.example:443')).toEqual({ host: 'k8s01.example', port: 443 });
    for (const bad of ['127.0.0.1', ':443', 'a:0', 'a:70000', 'a b:1', 'https://a:1']) expect(() => parseHostPort(bad)).toThrow(/HOST:PORT/);
  });

  it('says what a file holds when it holds no certificate, never its text', () => {
    expect(() => parseCertificates(Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n'))).toThrow(/^holds no certificate \(CERTIFICATE REQUEST\)$/);
    expect(() => parseCertificates(Buffer.from('-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n'))).toThrow(/^PEM block 1 is not a valid certificate$/);
    expect(() => parseCertificates(Buffer.from('secret text'))).toThrow(/^not a PEM or DER certificate$/);
    expect(() => parseCertificates(Buffer.alloc(0))).toThrow(/^empty file$/);
  });
});

describe('check_k8s_certs judgement', () => {
  it('OK: the soonest expiry in the status line, days left per certificate with the day ranges', async () => {
    const { state, out, text } = await judge(data(file('ca', cert(-100, 3550)), file('server', cert(-100, 265))));
    expect(state).toBe(State.OK);
    expect(out.summary).toBe('2 certificates, soonest expiry server.crt in 265 days (2027-02-25)');
    expect(text.split('\n')[0]).toContain('| ca=3550;30:;7: server=265;30:;7:');
  });

  it('WARNING under 30 days, CRITICAL under 7, each kind once, soonest first', async () => {
    const { state, out } = await judge(data(file('ca', cert(-1, 3000)), file('a', cert(-1, 20)), file('b', cert(-1, 12)), file('c', cert(-1, 6.5))));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toBe('expiring: c.crt in 6 days (2026-06-11); expiring: b.crt in 12 days (2026-06-17), a.crt in 20 days (2026-06-25)');
  });

  it('at most three names, then how many more', async () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((n, i) => file(n, cert(-1, 10 + i)));
    const { out, state } = await judge(data(...many));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('expiring: a.crt in 10 days (2026-06-15), b.crt in 11 days (2026-06-16), c.crt in 12 days (2026-06-17) and 2 more');
  });

  it('CRITICAL when expired or not yet valid, even with thresholds that would let it pass', async () => {
    const { state, out, text } = await judge(data(file('old', cert(-400, -3)), file('early', cert(2, 300)), file('ok', cert(-1, 100))), '-w', '@1000:2000', '-c', '@1000:2000');
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toBe('expired: old.crt on 2026-06-02; not yet valid: early.crt until 2026-06-07');
    expect(text).toContain('old=-3;@1000:2000;@1000:2000');
    expect(text).toContain('old.crt: expired 2026-06-02 (3 days ago)');
    expect(text).toContain('early.crt: not valid until 2026-06-07');
  });

  it('CRITICAL for a certificate valid from a few hours ahead (a clock or a refresh-certs run in the future)', async () => {
    const HOUR = 3_600_000;
    const ahead: CertInfo = { ...cert(0, 365), notBefore: NOW + 3 * HOUR };
    const { state, out, text } = await judge(data(file('server', ahead), file('ca', cert(-100, 3000))));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toBe('not yet valid: server.crt until 2026-06-05');
    expect(text).toContain('server.crt: not valid until 2026-06-05; subject CN=x');
    // valid since this very millisecond: fine
    expect((await judge(data(file('server', { ...cert(0, 365), notBefore: NOW })))).state).toBe(State.OK);
  });

  it('expired a few hours ago is expired (today); expiring this very moment is expired; expiring in a few hours is today', async () => {
    const HOUR = 3_600_000;
    const { state, out, text } = await judge(data(file('server', { ...cert(-365, 0), notAfter: NOW - 3 * HOUR })));
    expect(state).toBe(State.CRITICAL);
    expect(out.summary).toBe('expired: server.crt on 2026-06-05');
    expect(text).toContain('server.crt: expired 2026-06-05 (today)');
    expect(text).toContain('server=0;30:;7:');
    expect((await judge(data(file('server', cert(-365, 0))))).out.summary).toBe('expired: server.crt on 2026-06-05');
    const hours = await judge(data(file('server', { ...cert(-365, 0), notAfter: NOW + 3 * HOUR })));
    expect(hours.state).toBe(State.CRITICAL);
    expect(hours.out.summary).toBe('expiring: server.crt today (2026-06-05)');
  });

  it('UNKNOWN naming a file without a certificate; the good ones still judged and a CRITICAL one wins', async () => {
    const broken: CertSource = { kind: 'file', where: '/c/garbage.crt', label: 'garbage', certs: [], error: 'not a PEM or DER certificate' };
    const only = await judge(data(file('server', cert(-1, 200)), broken));
    expect(only.state).toBe(State.UNKNOWN);
    expect(only.out.summary).toBe('cannot judge garbage.crt: not a PEM or DER certificate');
    expect(only.text.split('\n')[0]).toContain('| server=200;30:;7:');
    const worse = await judge(data(file('server', cert(-1, 2)), broken));
    expect(worse.state).toBe(State.CRITICAL);
    expect(worse.out.summary).toBe('expiring: server.crt in 2 days (2026-06-07); cannot judge garbage.crt: not a PEM or DER certificate');
  });

  it('UNKNOWN when there is no certificate at all', async () => {
    const { state, out } = await judge(data());
    expect(state).toBe(State.UNKNOWN);
    expect(out.summary).toBe('no certificates found in /var/snap/microk8s/current/certs/*.crt or the kubeconfigs /var/snap/microk8s/current/credentials/*.config');
  });

  it('chains, kubeconfig users and servers get their own names and labels', async () => {
    const chain = file('ca-chain', cert(-1, 100, 'leaf'), cert(-1, 1000, 'root'));
    const kc: CertSource = { kind: 'kubeconfig', where: '/c/credentials/kubelet.config user kubelet', label: 'kc_kubelet', certs: [cert(-1, 25)] };
    const tls: CertSource = { kind: 'server', where: '127.0.0.1:16443', label: 'tls_127.0.0.1:16443', certs: [cert(-1, 300)] };
    const { out, state, text } = await judge(data(chain, kc, tls));
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('expiring: kubelet.config user kubelet in 25 days (2026-06-30)');
    expect(text.split('\n')[0]).toContain('| ca-chain_1=100;30:;7: ca-chain_2=1000;30:;7: kc_kubelet=25;30:;7: tls_127.0.0.1:16443=300;30:;7:');
    expect(text).toContain('ca-chain.crt #2: expires 2029-03-01, in 1000 days; subject CN=root');
  });

  it('a plain -w/-c is days, as operators write it', async () => {
    const { state, out } = await judge(data(file('server', cert(-1, 45))), '-w', '60', '-c', '14');
    expect(state).toBe(State.WARNING);
    expect(out.summary).toBe('expiring: server.crt in 45 days (2026-07-20)');
  });
});

describe('certs: what to do', () => {
  it('an expiring server certificate: the refresh-certs command for it', async () => {
    const { out } = await judge(data(file('ca', cert(-1, 3000)), file('server', cert(-1, 6.5))));
    expect(out.actions).toEqual([{ state: State.CRITICAL, text: 'renew server.crt on this node: sudo microk8s refresh-certs --cert server.crt, then check again' }]);
  });

  it('an expiring CA: every certificate it signed is reissued', async () => {
    const { out } = await judge(data(file('ca', cert(-1, 20))));
    expect(out.actions?.[0]?.text).toMatch(/^renew the CA on every node: sudo microk8s refresh-certs --cert ca\.crt .*make-kubeconfig\.sh/);
  });
});

describe('certs: the lines an operator acts on', () => {
  it('the long output says which range fired: -c for the CRITICAL ones, -w for the rest', async () => {
    const { out } = await judge(data(file('a', cert(-1, 20)), file('b', cert(-1, 3))));
    expect(out.findings).toContainEqual({ state: State.CRITICAL, text: '1 certificate with days left outside -c 7:' });
    expect(out.findings).toContainEqual({ state: State.WARNING, text: '1 certificate with days left outside -w 30:' });
    expect(out.actions?.map((a) => a.text)).toEqual(['renew b.crt on this node: sudo microk8s refresh-certs --cert b.crt, then check again', 'renew a.crt on this node: sudo microk8s refresh-certs --cert a.crt, then check again']);
  });

  it('exactly three expiring are all named; one day left is "in 1 day"', async () => {
    const { out } = await judge(data(file('a', cert(-1, 1.5)), file('b', cert(-1, 2)), file('c', cert(-1, 3))));
    expect(out.summary).toBe('expiring: a.crt in 1 day (2026-06-06), b.crt in 2 days (2026-06-07), c.crt in 3 days (2026-06-08)');
  });

  it("an expiring kubeconfig user or API server: the command that reissues it; a clock behind: fix the clock", async () => {
    const kc: CertSource = { kind: 'kubeconfig', where: '/c/credentials/kubelet.config user kubelet', label: 'kc_kubelet', certs: [cert(-1, 5)] };
    let { out } = await judge(data(kc));
    expect(out.actions?.[0]?.text).toBe('the client certificate in kubelet.config user kubelet is issued with the kubeconfig: sudo microk8s refresh-certs --cert ca.crt reissues them; for the monitoring kubeconfig re-run /usr/share/k8s-nrpe/make-kubeconfig.sh; check again');
    const tls: CertSource = { kind: 'server', where: '127.0.0.1:16443', label: 'tls_127.0.0.1:16443', certs: [cert(-1, 5)] };
    ({ out } = await judge(data(tls)));
    expect(out.summary).toBe('expiring: TLS 127.0.0.1:16443 in 5 days (2026-06-10)');
    ({ out } = await judge(data(file('front-proxy-ca', cert(-1, 5)))));
    expect(out.actions?.[0]?.text).toBe('renew front-proxy-ca.crt on this node: sudo microk8s refresh-certs --cert front-proxy-ca.crt, then check again');
    ({ out } = await judge(data(file('server', cert(2, 300)))));
    expect(out.actions?.[0]?.text).toBe("server.crt starts 2026-06-07: this host's clock is behind (timedatectl; chronyc tracking) or the certificate was made on a host whose clock is ahead; fix the clock, or reissue the certificate");
  });

  it('an unreadable file: make it readable for the nagios user, with its own line', async () => {
    const broken: CertSource = { kind: 'file', where: '/var/snap/microk8s/current/certs/serviceaccount.crt', label: 'sa', certs: [], error: 'permission denied' };
    const { out, state } = await judge(data(broken));
    expect(state).toBe(State.UNKNOWN);
    expect(out.actions).toEqual([{ state: State.UNKNOWN, text: "make /var/snap/microk8s/current/certs/serviceaccount.crt readable for this user (the nagios user reads microk8s's certificates through group microk8s: see README.Debian), or fix what the line says" }]);
    expect(out.findings).toContainEqual({ state: State.UNKNOWN, text: '/var/snap/microk8s/current/certs/serviceaccount.crt: permission denied' });
  });
});
