import { COMMAND_TIMEOUT_MS, execNoShell } from "../doctor/run-version.ts";
import type { Exec, ExecResult, Which } from "../doctor/types.ts";

export interface BubblewrapProbe {
  /** Where bwrap is; null when it is not installed. */
  path: string | null;
  /** Whether bwrap can build its namespaces for this user (a trial run succeeded). */
  userns: boolean;
  /** First line of `bwrap --version`. */
  version?: string;
  detail: string;
}

const USERNS_HINT =
  "unprivileged user namespaces look disabled: allow them (sysctl kernel.unprivileged_userns_clone=1 on older Debian; on Ubuntu 23.10+ kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap)";

function firstLine(text: string): string | undefined {
  return text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
}

function why(res: ExecResult): string {
  return res.error ?? firstLine(res.stderr) ?? firstLine(res.stdout) ?? `exit code ${res.code}`;
}

/**
 * Finds bwrap and runs it for real (`--ro-bind / / --unshare-pid`), which is what tells whether
 * it works for this user: it needs unprivileged user namespaces unless it is setuid.
 */
export async function probeBubblewrap(
  which: Which,
  exec: Exec = execNoShell,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<BubblewrapProbe> {
  const bwrap = await which("bwrap");
  if (!bwrap) return { path: null, userns: false, detail: "bwrap is not installed" };
  const [versionRes, trial] = await Promise.all([
    exec(bwrap, ["--version"], timeoutMs),
    exec(
      bwrap,
      ["--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "--", "true"],
      timeoutMs,
    ),
  ]);
  const version = versionRes.code === 0 ? firstLine(versionRes.stdout) : undefined;
  const base = { path: bwrap, ...(version ? { version } : {}) };
  if (trial.code === 0 && trial.error === undefined) {
    return { ...base, userns: true, detail: `${version ?? bwrap} works for this user` };
  }
  const reason = why(trial);
  const userns = /namespace|uid map|setting up|Operation not permitted|Permission denied/i.test(
    reason,
  );
  return {
    ...base,
    userns: false,
    detail: `${bwrap} cannot build a sandbox for this user: ${reason}${userns ? `; ${USERNS_HINT}` : ""}`,
  };
}
