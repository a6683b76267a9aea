// Fixed root-only host commands, run directly or through `sudo -n`, with the
// failures an operator meets turned into one actionable line: sudo refused
// (with the exact sudoers line to add), not root, tool not installed.
import fs from 'node:fs/promises';
import type { Logger } from '../plugin/log.js';
import { PluginError } from '../plugin/errors.js';
import { firstLine, runCommand, type CommandResult } from './command.js';
import { currentUser } from './user.js';

export const SUDO = '/usr/bin/sudo';

/** A fixed command: sudo matches the whole command line, so these and packaging/sudoers/k8s-nrpe change together. */
export interface FixedCommand {
  file: string;
  args: string[];
}

const PERMISSION = /permission denied|operation not permitted|you must be root/i;
const SUDO_REFUSED = /a password is required|a terminal is required|is not allowed to execute|not in the sudoers file|may not run sudo|no tty present/i;

/** The sudoers line that lets `user` run exactly these commands (no arguments listed allows any; "" allows none). */
export function sudoersLine(user: string, commands: readonly FixedCommand[]): string {
  const cmds = commands.map((c) => [c.file, ...(c.args.length ? c.args : ['""'])].join(' '));
  return `${user} ALL=(root) NOPASSWD: ${cmds.join(', ')}`;
}

export interface PrivilegedOptions {
  sudo: boolean;
  signal: AbortSignal;
  maxBytes?: number;
  log?: Logger;
  /** Every command the caller may run, for the sudoers line in its messages. */
  allowed: readonly FixedCommand[];
  /** What the command is for, as in 'cannot <purpose>: ... needs root'. */
  purpose: string;
}

/**
 * Run a root-only command. Returns undefined when the tool is not installed
 * (a host without legacy iptables or nft is no error); a non-zero exit that
 * is not about permissions is returned for the caller to read.
 */
export async function runPrivileged(cmd: FixedCommand, o: PrivilegedOptions): Promise<CommandResult | undefined> {
  try {
    await fs.access(cmd.file);
  } catch {
    return undefined;
  }
  const command = [cmd.file, ...cmd.args].join(' ').trim();
  const r = o.sudo
    ? await runCommand(SUDO, ['-n', cmd.file, ...cmd.args], { signal: o.signal, maxBytes: o.maxBytes, log: o.log })
    : await runCommand(cmd.file, cmd.args, { signal: o.signal, maxBytes: o.maxBytes, log: o.log });
  if (r.exitCode === 0) return r;
  const said = firstLine(r.stderr) || `exit status ${r.exitCode}`;
  const line = sudoersLine(currentUser() ?? 'nagios', o.allowed);
  if (o.sudo && SUDO_REFUSED.test(r.stderr)) {
    throw new PluginError(`sudo refused to run ${command} (${said}): add to /etc/sudoers.d/k8s-nrpe (packaging/sudoers/k8s-nrpe): ${line}`);
  }
  if (o.sudo && /command not found/i.test(r.stderr)) return undefined;
  if (PERMISSION.test(r.stderr)) {
    throw new PluginError(o.sudo
      ? `${command} failed under sudo (${said})`
      : `cannot ${o.purpose}: ${cmd.file} needs root (${said}); run with --sudo and add to /etc/sudoers.d/k8s-nrpe: ${line}`);
  }
  return r;
}
