import fs from 'node:fs';
import os from 'node:os';

/**
 * The names this host goes by, lowercased, most specific first: the hostname
 * as the kernel has it, its short form (up to the first dot), and its FQDN.
 * The FQDN is the hostname when it has a dot; otherwise the canonical (first)
 * name of the /etc/hosts line that lists the hostname, as `hostname -f` finds
 * it without DNS (a check never waits on a resolver to learn its own name).
 *
 * The kubelet names its Node after the lowercased hostname unless told
 * otherwise (--hostname-override, cloud providers): lib/kube/this-node.ts
 * matches these names against every Node's name, kubernetes.io/hostname label
 * and Hostname addresses.
 */
export function hostNames(hostname: string = os.hostname(), hostsText: string | undefined = readHosts()): string[] {
  const name = hostname.trim().toLowerCase();
  const short = name.split('.')[0]!;
  const names = [name, short];
  if (!name.includes('.') && hostsText) {
    const fqdn = canonicalName(hostsText, name);
    if (fqdn?.includes('.')) names.push(fqdn);
  }
  return [...new Set(names.filter(Boolean))];
}

/** The first name of the first /etc/hosts line that lists `name` (case-insensitively), lowercased. */
function canonicalName(hostsText: string, name: string): string | undefined {
  for (const raw of hostsText.split('\n')) {
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/).slice(1).map((f) => f.toLowerCase());
    if (fields.includes(name)) return fields[0];
  }
  return undefined;
}

function readHosts(): string | undefined {
  try {
    return fs.readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
}
