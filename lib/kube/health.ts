// The API server's /livez and /readyz answers, as
// k8s.io/apiserver/pkg/server/healthz (handleRootHealth) writes them:
//   200 "ok"                                   (no ?verbose, all passed)
//   200 "[+]ping ok\n[+]etcd ok\n...\nreadyz check passed\n"     (?verbose)
//   500 "[+]ping ok\n[-]etcd failed: reason withheld\n...\nreadyz check failed\n"
// A failing endpoint is always verbose; the reason is only in the server's log.

export interface HealthCheckLine {
  name: string;
  ok: boolean;
  /** "[+]name excluded: ok" (?exclude=name). */
  excluded?: boolean;
}

export interface HealthAnswer {
  /** Every "[+]"/"[-]" line, in the server's order. */
  checks: HealthCheckLine[];
  /** The closing "<endpoint> check passed|failed" line, or "ok"; undefined when there is neither. */
  verdict?: 'passed' | 'failed';
}

const LINE = /^\[([+-])\]([^\s]+?)(?: (excluded: ok|ok|failed: .*))?$/;

/** Parse the text of /livez, /readyz or /healthz (with or without ?verbose). */
export function parseHealth(text: string): HealthAnswer {
  const checks: HealthCheckLine[] = [];
  let verdict: HealthAnswer['verdict'];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = LINE.exec(line);
    if (m) {
      checks.push({ name: m[2]!, ok: m[1] === '+', ...(m[3] === 'excluded: ok' && { excluded: true }) });
      continue;
    }
    if (line === 'ok' || / check passed$/.test(line)) verdict = 'passed';
    else if (/ check failed$/.test(line)) verdict = 'failed';
  }
  return { checks, verdict };
}

/** The names of the checks that failed. */
export function failedChecks(a: HealthAnswer): string[] {
  return a.checks.filter((c) => !c.ok).map((c) => c.name);
}
