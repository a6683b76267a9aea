// The NRPE commands as the .deb installs them: each one runs its plugin only
// while the plugin is there, and otherwise answers one UNKNOWN line with the
// next step. After `apt-get remove k8s-nrpe` the conffile stays (dpkg keeps
// conffiles until purge, and Debian Policy 10.7.3 forbids maintainer scripts
// to edit or move one), so NRPE still runs these lines with the plugins gone;
// unguarded, /bin/sh prints "not found" on stderr, which NRPE drops, and
// check_nrpe shows "NRPE: Unable to read output". NRPE runs a command with
// popen() (/bin/sh -c), so a shell test is enough; no '$' (NRPE reads $...$
// as a macro).
//
//   command[check_k8s_leases]=test -x P && exec P ARGS; echo 'K8S LEASES UNKNOWN - ...'; exit 3

export const GUARD_NOTE = [
  '# As installed, each command runs its plugin only while the package is installed: after',
  '# `apt-get remove k8s-nrpe` (this file stays until purge) it answers UNKNOWN with what to do.',
  '# Edit the options after `exec <plugin>`.',
];

/** One command line, guarded (an opt-in one that ships commented out too, so it is guarded once enabled); other lines unchanged. */
export function guardLine(line) {
  const m = /^(#\s*)?command\[([A-Za-z0-9_]+)\]=(\/\S+\/check_k8s_([a-z0-9_]+))(.*)$/.exec(line);
  if (!m) return line;
  const [, comment = '', cmd, exe, name, args] = m;
  const title = name.toUpperCase().replace(/_/g, ' ');
  const next = `K8S ${title} UNKNOWN - ${exe} is not installed (package k8s-nrpe removed, its NRPE commands stay until purged): ` +
    'apt-get install k8s-nrpe, or apt-get purge k8s-nrpe to drop these commands';
  return `${comment}command[${cmd}]=test -x ${exe} && exec ${exe}${args}; echo '${next}'; exit 3`;
}

/** The conffile text from nrpe.d/k8s-nrpe.cfg: the note after the first comment block, every command guarded. */
export function guardCommands(text) {
  const lines = text.split('\n');
  const firstBlank = lines.findIndex((l) => !l.startsWith('#'));
  return [...lines.slice(0, firstBlank), ...GUARD_NOTE, ...lines.slice(firstBlank).map(guardLine)].join('\n');
}
