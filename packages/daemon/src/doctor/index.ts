import type { DoctorCheck } from "@wm/protocol";
import { checkDocker, checkPodman, preferEither } from "./container-runtimes.ts";
import { createWhich, pathExists } from "./host-probes.ts";
import { checkQemu } from "./qemu.ts";
import { COMMAND_TIMEOUT_MS, execNoShell } from "./run-version.ts";
import { checkBubblewrap, checkDebootstrap, checkGit, checkTmux } from "./tools.ts";
import type { DoctorContext, DoctorOptions } from "./types.ts";

export type { DoctorOptions } from "./types.ts";

/** Extra time a check may take beyond its one slow call (command or engine) before it counts as hung. */
const CHECK_GRACE_MS = 1000;

function resolveContext(opts: DoctorOptions): DoctorContext {
  return {
    env: opts.env,
    platform: opts.platform,
    arch: opts.arch ?? process.arch,
    uid: opts.uid ?? process.getuid?.() ?? 0,
    timeoutMs: Math.min(opts.timeoutMs ?? COMMAND_TIMEOUT_MS, COMMAND_TIMEOUT_MS),
    which: opts.which ?? createWhich(opts.env),
    exec: opts.exec ?? execNoShell,
    engineVersion: opts.engineVersion,
    pathExists: opts.pathExists ?? pathExists,
  };
}

type Check = (ctx: DoctorContext) => Promise<DoctorCheck>;

async function guarded(
  ctx: DoctorContext,
  name: string,
  onError: "warn" | "fail",
  check: Check,
): Promise<DoctorCheck> {
  const limitMs = ctx.timeoutMs + CHECK_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<DoctorCheck>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          name,
          status: onError,
          detail: `the check did not finish within ${limitMs} ms`,
          fix: "run wm doctor again; if it repeats, look at the daemon log",
        }),
      limitMs,
    );
  });
  const run = check(ctx).catch(
    (err: unknown): DoctorCheck => ({
      name,
      status: onError,
      detail: `the check failed: ${err instanceof Error ? err.message : String(err)}`,
      fix: "look at the daemon log for details",
    }),
  );
  try {
    return await Promise.race([run, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every check concurrently; each external command is limited to 3 s, so the whole run is too. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const ctx = resolveContext(opts);
  const [docker, podman, ...rest] = await Promise.all([
    guarded(ctx, "docker", "fail", checkDocker),
    guarded(ctx, "podman", "warn", checkPodman),
    guarded(ctx, "tmux", "fail", checkTmux),
    guarded(ctx, "git", "fail", checkGit),
    guarded(ctx, "bubblewrap", "warn", checkBubblewrap),
    guarded(ctx, "qemu", "warn", checkQemu),
    guarded(ctx, "debootstrap", "warn", checkDebootstrap),
  ]);
  return [preferEither(docker, podman), podman, ...rest];
}
