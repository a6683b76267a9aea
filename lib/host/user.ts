import os from 'node:os';

/** The login name of this process, undefined when the system cannot tell (no passwd entry). */
export function currentUser(): string | undefined {
  try {
    return os.userInfo().username || undefined;
  } catch {
    return undefined;
  }
}
