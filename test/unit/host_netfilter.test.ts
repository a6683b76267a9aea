// The NAT table parsers on real tool output: the *.save and *.json files in
// test/fixtures/netfilter/ were printed by iptables-save (nf_tables and
// legacy) and nft 1.0.6 from a network namespace loaded with
// kube-proxy-iptables.rules / kube-proxy-nftables.nft (see generate.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  exactDestination, parseChainRules, parseCidr, parseIptablesSave, ruleComment, ruleCount, tokenize, IptablesParseError, type Rule,
} from '../../lib/host/iptables.js';
import { kubeProxyServicePortals, parseNftJson, servicePortFromChain, NftParseError } from '../../lib/host/nft.js';
import { ROOT } from '../harness.js';

const fixture = (name: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'netfilter', name), 'utf8');

describe('tokenize (iptables-restore quoting)', () => {
  it('groups double quotes, unescapes inside them, keeps single quotes literal', () => {
    expect(tokenize(`-A X -m comment --comment "ns/svc:\\"quoted\\" port \\\\ back" -j RETURN`))
      .toEqual(['-A', 'X', '-m', 'comment', '--comment', 'ns/svc:"quoted" port \\ back', '-j', 'RETURN']);
    expect(tokenize(`--comment "single \\'q\\' and a | pipe"`)).toEqual(['--comment', "single 'q' and a | pipe"]);
    expect(tokenize(`--comment 'a b'`)).toEqual(['--comment', "'a", "b'"]);
    expect(tokenize('  -A\tX   -j  RETURN  ')).toEqual(['-A', 'X', '-j', 'RETURN']);
    expect(tokenize('--comment ""')).toEqual(['--comment', '']);
    expect(() => tokenize('--comment "open')).toThrow(/unterminated/);
  });
});

describe('parseIptablesSave on real iptables-save output', () => {
  it('reads the nf_tables backend with counters (iptables-save -c)', () => {
    const s = parseIptablesSave(fixture('kube-proxy-nat-counters.save'));
    expect(s.backend).toBe('nf_tables');
    expect(s.version).toBe('1.8.9');
    expect([...s.tables.keys()]).toEqual(['nat']);
    const nat = s.tables.get('nat')!;
    const pre = nat.chains.get('PREROUTING')!;
    expect(pre).toMatchObject({ builtin: true, policy: 'ACCEPT', counters: { packets: 1534, bytes: 92040 } });
    expect(pre.rules.map((r) => r.target)).toEqual(['cali-PREROUTING', 'KUBE-SERVICES']);
    expect(pre.rules[1]!.counters).toEqual({ packets: 49, bytes: 2940 });
    const svc = nat.chains.get('KUBE-SERVICES')!;
    expect(svc).toMatchObject({ builtin: false, policy: undefined });
    // 18 service ports with endpoints (one NodePort, one internalTrafficPolicy Local) + the nodeports rule
    expect(svc.rules).toHaveLength(19);
    const first = svc.rules[0]!;
    expect(first.text).toBe('-A KUBE-SERVICES -d 10.152.183.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(first.counters!.packets).toBeGreaterThan(0);
    expect(ruleComment(first)).toBe('default/kubernetes:https cluster IP');
    expect(exactDestination(first)).toEqual({ address: '10.152.183.1', protocol: 'tcp', port: 443 });
    expect(first).toMatchObject({ target: 'KUBE-SVC-NPX46M4PTMTKRN6Y', goto: false });
    const last = svc.rules.at(-1)!;
    expect(ruleComment(last)).toBe('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
    expect(exactDestination(last)).toBeUndefined();
    expect(last.options.find((o) => o.name === '--dst-type')).toMatchObject({ values: ['LOCAL'], module: 'addrtype' });
    expect(ruleCount(nat)).toBeGreaterThan(100);
  });

  it('reads the legacy backend the same way', () => {
    const legacy = parseIptablesSave(fixture('kube-proxy-legacy.save'));
    const nft = parseIptablesSave(fixture('kube-proxy-nat-counters.save'));
    expect(legacy.backend).toBe('legacy');
    // iptables-legacy-save without -t: every table that exists
    expect([...legacy.tables.keys()]).toEqual(['nat', 'filter']);
    const reject = legacy.tables.get('filter')!.chains.get('KUBE-SERVICES')!.rules;
    expect(reject.map((r) => [ruleComment(r), r.target, exactDestination(r)])).toEqual([
      ['media/readarr:http has no endpoints', 'REJECT', { address: '10.152.183.152', protocol: 'tcp', port: 8787 }],
    ]);
    const rules = (s: typeof legacy) => [...s.tables.get('nat')!.chains.values()].flatMap((c) => c.rules.map((r) => r.text));
    expect(rules(legacy)).toEqual(rules(nft));
    expect(ruleCount(legacy.tables.get('nat'))).toBe(ruleCount(nft.tables.get('nat')));
  });

  it('reads kube-proxy statistic, masquerade and DNAT rules and Calico chains', () => {
    const nat = parseIptablesSave(fixture('kube-proxy-legacy.save')).tables.get('nat')!;
    const kubernetes = nat.chains.get('KUBE-SVC-NPX46M4PTMTKRN6Y')!.rules;
    expect(kubernetes).toHaveLength(4);
    const masq = kubernetes[0]!;
    expect(masq.options.find((o) => o.name === '-s')).toMatchObject({ values: ['10.1.0.0/16'], negated: true });
    expect(masq.target).toBe('KUBE-MARK-MASQ');
    // kube-proxy wrote 0.3333333333; the kernel keeps a u32 and iptables-save prints 11 digits
    expect(kubernetes[1]!.options.find((o) => o.name === '--probability')).toMatchObject({ values: ['0.33333333349'], module: 'statistic' });
    expect(kubernetes[2]!.options.find((o) => o.name === '--probability')!.values).toEqual(['0.50000000000']);
    expect(kubernetes[3]!.options.some((o) => o.name === '--probability')).toBe(false);
    const sep = nat.chains.get(kubernetes[3]!.target!)!.rules;
    expect(sep[1]!.options.find((o) => o.name === '--to-destination')!.values).toEqual(['10.0.0.13:16443']);
    const postrouting = nat.chains.get('KUBE-POSTROUTING')!.rules;
    expect(postrouting[0]!.options.find((o) => o.name === '--mark')).toMatchObject({ negated: true, values: ['0x4000/0x4000'], module: 'mark' });
    expect(postrouting[2]!.options.find((o) => o.name === '-j')!.values).toEqual(['MASQUERADE']);
    expect(postrouting[2]!.options.find((o) => o.name === '--random-fully')!.values).toEqual([]);
    const cali = [...nat.chains.keys()].filter((c) => c.startsWith('cali-'));
    expect(cali).toEqual(['cali-OUTPUT', 'cali-POSTROUTING', 'cali-PREROUTING', 'cali-fip-dnat', 'cali-fip-snat', 'cali-nat-outgoing']);
    const natOut = nat.chains.get('cali-nat-outgoing')!.rules[0]!;
    expect(natOut.options.filter((o) => o.name === '--match-set').map((o) => [o.negated, ...o.values]))
      .toEqual([[false, 'cali40masq-ipam-pools', 'src'], [true, 'cali40all-ipam-pools', 'dst']]);
  });

  it('reads quoting, goto, negated ports and the [p:b] prefix from iptables-legacy-save -c', () => {
    const s = parseIptablesSave(fixture('quirks-legacy-counters.save'));
    const rules = s.tables.get('nat')!.chains.get('QUIRKS')!.rules;
    expect(ruleComment(rules[0]!)).toBe('ns/svc:"quoted" port \\ back');
    expect(rules[0]!.counters).toEqual({ packets: 42, bytes: 2520 });
    expect(exactDestination(rules[0]!)).toEqual({ address: '10.152.183.9', protocol: 'tcp', port: 80 });
    expect(ruleComment(rules[1]!)).toBe("single 'q' and a | pipe");
    expect(rules[1]).toMatchObject({ target: 'QUIRKS-TARGET', goto: true });
    expect(exactDestination(rules[2]!)).toBeUndefined(); // ! -d and multiport
    expect(exactDestination(rules[3]!)).toEqual({ address: '10.152.183.11', protocol: 'sctp', port: 9999 }); // /32 added by iptables
    expect(exactDestination(rules[4]!)).toBeUndefined(); // ! --dport 53
    expect(rules[4]!.options.find((o) => o.name === '--dport')).toMatchObject({ negated: true, values: ['53'], module: 'udp' });
  });

  it('reads iptables-restore input with the -c PACKETS BYTES form', () => {
    const text = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-X - [0:0]',
      '-A KUBE-SERVICES -c 42 2520 -d 10.152.183.9 -p tcp -m tcp --dport 80 -j KUBE-SVC-X',
      '-A KUBE-SERVICES -d 10.152.183.10/32 -p udp -m udp --dport 53 -c 7 420 -j KUBE-SVC-X',
      'COMMIT',
    ].join('\n');
    const rules = parseIptablesSave(text).tables.get('nat')!.chains.get('KUBE-SERVICES')!.rules;
    expect(rules.map((r) => r.counters)).toEqual([{ packets: 42, bytes: 2520 }, { packets: 7, bytes: 420 }]);
    expect(rules.map((r) => exactDestination(r))).toEqual([
      { address: '10.152.183.9', protocol: 'tcp', port: 80 },
      { address: '10.152.183.10', protocol: 'udp', port: 53 },
    ]);
    expect(rules[0]!.options.some((o) => o.name === '-c')).toBe(false);
  });

  it('reads an empty nat table, the warnings iptables-nft-save prints, and nothing', () => {
    const empty = parseIptablesSave([
      '# Generated by iptables-save v1.8.9 (nf_tables) on Wed Nov 25 02:17:29 2026',
      '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', 'COMMIT',
      '# Completed on Wed Nov 25 02:17:29 2026',
      '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them',
    ].join('\n'));
    expect(empty.backend).toBe('nf_tables');
    expect([...empty.tables.get('nat')!.chains.keys()]).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
    expect(ruleCount(empty.tables.get('nat'))).toBe(0);
    expect(empty.warnings).toEqual(['Warning: iptables-legacy tables present, use iptables-legacy-save to see them']);
    expect(parseIptablesSave('').tables.size).toBe(0);
  });

  it('rejects what is not iptables-save output, naming the line', () => {
    // Rule options are tokenised when first read: parseChainRules forces it for the chains a check judges.
    const bad = (text: string) => {
      try {
        const s = parseIptablesSave(text);
        for (const t of s.tables.values()) parseChainRules(t, ...t.chains.keys());
      } catch (e) {
        expect(e).toBeInstanceOf(IptablesParseError);
        return e as IptablesParseError;
      }
      throw new Error('parsed');
    };
    expect(bad('-A X -j RETURN').message).toMatch(/line 1: .*outside a table/);
    expect(bad('*nat\n-A NOPE -j RETURN').message).toMatch(/line 2: rule for undeclared chain NOPE/);
    expect(bad('*nat\n:X - [0:0]\n-A X RETURN').message).toMatch(/line 3: unexpected 'RETURN'/);
    expect(bad('*nat\n:X - [0:0]\n-I X -j RETURN').message).toMatch(/line 3: expected -A CHAIN/);
    expect(bad('*nat\n:X - [0:0]\n-A').message).toMatch(/line 3: expected -A CHAIN/);
    expect(bad('*nat\n:X - [0:0]\n-A X -m comment --comment "open').message).toMatch(/line 3: unterminated quote/);
    expect(bad('*nat\n:X - [0:0]\n-A X -c 1 -j RETURN').message).toMatch(/bad counters/);
    expect(bad('*nat\n:X - [0:0]\n-A X -j RETURN !').message).toMatch(/'!' at the end/);
    expect(bad('<html>').message).toMatch(/outside a table/);
  });

  it('tokenises a rule only when its options are read', () => {
    const s = parseIptablesSave('*nat\n:OK - [0:0]\n:BAD - [0:0]\n-A OK -j RETURN\n-A BAD -m comment --comment "open\nCOMMIT');
    const nat = s.tables.get('nat')!;
    expect(nat.chains.get('BAD')!.rules[0]!.text).toBe('-A BAD -m comment --comment "open');
    expect(() => parseChainRules(nat, 'OK')).not.toThrow();
    expect(nat.chains.get('OK')!.rules[0]!.target).toBe('RETURN');
    expect(() => nat.chains.get('BAD')!.rules[0]!.options).toThrow(/line 5: unterminated quote/);
    expect(JSON.parse(JSON.stringify(nat.chains.get('OK')!.rules[0]))).toEqual({ chain: 'OK', text: '-A OK -j RETURN', line: 4, options: [{ name: '-j', values: ['RETURN'], negated: false }], target: 'RETURN', goto: false });
  });

  it('parseCidr and exactDestination accept only one exact IPv4 address', () => {
    expect(parseCidr('10.152.183.1/32')).toEqual({ address: '10.152.183.1', prefix: 32 });
    expect(parseCidr('10.152.183.1')).toEqual({ address: '10.152.183.1', prefix: 32 });
    expect(parseCidr('10.1.0.0/16')).toEqual({ address: '10.1.0.0', prefix: 16 });
    expect(parseCidr('10.1.0.0/33')).toBeUndefined();
    expect(parseCidr('fd00::1/128')).toBeUndefined();
    const rule = (text: string): Rule => {
      const s = parseIptablesSave(`*nat\n:K - [0:0]\n${text}\nCOMMIT`);
      return s.tables.get('nat')!.chains.get('K')!.rules[0]!;
    };
    expect(exactDestination(rule('-A K -d 10.152.183.0/24 -p tcp -m tcp --dport 80 -j RETURN'))).toBeUndefined();
    expect(exactDestination(rule('-A K -d 10.152.183.1/32 -p tcp -m tcp --dport 80:90 -j RETURN'))).toBeUndefined();
    expect(exactDestination(rule('-A K -d 10.152.183.1/32 -p TCP -m tcp --dport 80 -j RETURN'))).toEqual({ address: '10.152.183.1', protocol: 'tcp', port: 80 });
  });
});

describe('parseNftJson on real nft -j output', () => {
  it('reads kube-proxy nftables mode: chains, rules, sets and the service-ips map', () => {
    const dump = parseNftJson(fixture('kube-proxy-nftables.json'));
    expect(dump).toMatchObject({ version: '1.0.6', family: 'ip', table: 'kube-proxy' });
    expect(dump.chains.get('nat-prerouting')).toMatchObject({ type: 'nat', hook: 'prerouting', rules: 1 });
    expect(dump.chains.get('services')!.rules).toBe(2);
    expect(dump.rules).toBeGreaterThan(50);
    expect(dump.sets.get('cluster-ips')).toMatchObject({ kind: 'set', type: ['ipv4_addr'], comment: 'Active ClusterIPs' });
    expect(dump.sets.get('cluster-ips')!.elements.map((e) => e.key[0])).toContain('10.152.183.1');
    const portals = kubeProxyServicePortals(dump)!;
    expect(portals).toHaveLength(18);
    expect(portals).toContainEqual({ address: '10.152.183.1', protocol: 'tcp', port: 443, target: 'service-2QRHZV4L-default/kubernetes/tcp/https', comment: undefined });
    expect(portals).toContainEqual(expect.objectContaining({ address: '10.152.183.10', protocol: 'udp', port: 53 }));
    // elements with a comment are wrapped in {"elem": {"val": ..., "comment": ...}}
    const noEndpoints = dump.sets.get('no-endpoint-services')!;
    expect(noEndpoints.elements).toEqual([{ key: ['10.152.183.152', 'tcp', 8787], comment: 'media/readarr:http', verdict: 'goto', target: 'reject-chain' }]);
    expect(kubeProxyServicePortals(dump, 'service-nodeports')).toEqual([]); // two-part keys are not portals
    expect(kubeProxyServicePortals(dump, 'nope')).toBeUndefined();
  });

  it('maps kube-proxy chain names back to service ports', () => {
    expect(servicePortFromChain('service-2QRHZV4L-default/kubernetes/tcp/https')).toBe('default/kubernetes:https');
    expect(servicePortFromChain('service-FY5PMXPG-kube-system/kube-dns/udp/dns')).toBe('kube-system/kube-dns:dns');
    expect(servicePortFromChain('service-ABCDEFGH-ns/unnamed/tcp/')).toBe('ns/unnamed');
    expect(servicePortFromChain('endpoint-N76ARL3V-default/kubernetes/tcp/https__10.0.0.11/16443')).toBeUndefined();
    expect(servicePortFromChain(undefined)).toBeUndefined();
  });

  it('handles numeric protocols, verdict strings and other tables', () => {
    const dump = parseNftJson(JSON.stringify({
      nftables: [
        { table: { family: 'ip', name: 'kube-proxy', handle: 1 } },
        { map: { family: 'ip', name: 'service-ips', table: 'kube-proxy', type: ['ipv4_addr', 'inet_proto', 'inet_service'], map: 'verdict',
          elem: [[{ concat: ['10.0.0.1', 6, '443'] }, { jump: { target: 'x' } }], [{ concat: ['10.0.0.2', 'udp', 53] }, 'drop']] } },
        { map: { family: 'ip', name: 'service-ips', table: 'other', type: ['ipv4_addr'], map: 'verdict', elem: [] } },
        { rule: { family: 'ip', table: 'other', chain: 'c', expr: [] } },
      ],
    }));
    expect(dump.rules).toBe(0);
    expect(kubeProxyServicePortals(dump)).toEqual([
      { address: '10.0.0.1', protocol: 'tcp', port: 443, target: 'x', comment: undefined },
      { address: '10.0.0.2', protocol: 'udp', port: 53, target: undefined, comment: undefined },
    ]);
    expect(dump.sets.get('service-ips')!.elements[1]!.verdict).toBe('drop');
  });

  it('rejects what is not nft JSON', () => {
    expect(() => parseNftJson('Error: No such file or directory')).toThrow(NftParseError);
    expect(() => parseNftJson('{"foo": 1}')).toThrow(/no "nftables" array/);
    expect(() => parseNftJson(JSON.stringify({ nftables: [{ map: { name: 'm', table: 't', family: 'ip', map: 'verdict', elem: ['bad'] } }] }))).toThrow(/not \[key, value\]/);
  });
});
