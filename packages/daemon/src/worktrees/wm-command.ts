import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";

type Env = Readonly<Record<string, string | undefined>>;

/** POSIX shell single-quoting. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function onPath(name: string, env: Env): boolean {
  for (const dir of (env.PATH ?? "").split(":").filter(Boolean)) {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/**
 * How to run the `wm` CLI from a pane or a tmux hook: `wm` when it is on PATH, else this
 * install's bundle (`wm.cjs` beside the daemon's own script) run by this node.
 */
export function wmInvocation(env: Env, script = process.argv[1]): string[] {
  if (onPath("wm", env)) return ["wm"];
  const bundle = script ? path.join(path.dirname(script), "wm.cjs") : undefined;
  if (bundle && existsSync(bundle)) return [process.execPath, bundle];
  return ["wm"];
}

const HOOK_SAFE = /^[A-Za-z0-9_@+=:,./ -]*$/;

/**
 * The shell command a tmux focus hook runs to clear waiting/done on window `#{window_id}`.
 * It names this daemon's runtime and state directories so it reaches this daemon. Built only
 * from characters that need no quoting inside tmux and sh quotes; undefined otherwise.
 */
export function focusClearCommand(env: Env, runtimeDir: string): string | undefined {
  const vars: string[] = [`WM_RUNTIME_DIR=${runtimeDir}`];
  for (const name of ["XDG_STATE_HOME", "XDG_CONFIG_HOME"]) {
    const value = env[name];
    if (value) vars.push(`${name}=${value}`);
  }
  const argv = [...wmInvocation(env), "status", "set", "clear"];
  const parts = [...vars, ...argv];
  if (!parts.every((p) => HOOK_SAFE.test(p))) return undefined;
  const quoted = parts.map((p) => (p.includes(" ") ? `"${p}"` : p));
  return `env ${quoted.join(" ")} --window #{window_id} --only-if waiting,done >/dev/null 2>&1`;
}
