import { EXEC_ENV_ALLOWED, RpcError } from "@wm/protocol";

/** Variables a sandbox may send with a host command: terminal and locale only. */
export const GUEST_ENV_ALLOWED = EXEC_ENV_ALLOWED;

/** Longest value a sandbox may send for one variable, bytes. */
export const GUEST_ENV_MAX_VALUE = 4096;

const INJECTOR_NAMES = new Set([
  "NODE_OPTIONS",
  "BASH_ENV",
  "ENV",
  "PYTHONPATH",
  "PYTHONSTARTUP",
  "PERL5LIB",
  "PERL5OPT",
  "RUBYOPT",
  "RUBYLIB",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "PAGER",
  "EDITOR",
  "PROMPT_COMMAND",
  "IFS",
]);
const INJECTOR_PREFIXES = ["LD_", "DYLD_", "GIT_"];

/** Variables that point a tool at a host service the fence hides. */
const HOST_SERVICE_NAMES = new Set([
  "SSH_AUTH_SOCK",
  "GPG_AGENT_INFO",
  "DOCKER_HOST",
  "CONTAINER_HOST",
  "DBUS_SESSION_BUS_ADDRESS",
  "XDG_RUNTIME_DIR",
]);

/** Set by wm for every host command; nothing else may change them. */
const FIXED_NAMES = new Set(["PATH", "HOME", "TMPDIR"]);

/** Whether `name` can change which code a host tool runs (LD_PRELOAD, NODE_OPTIONS, GIT_*, …). */
export function isInjector(name: string): boolean {
  return INJECTOR_NAMES.has(name) || INJECTOR_PREFIXES.some((p) => name.startsWith(p));
}

const accepted = () => `a sandbox may send only ${GUEST_ENV_ALLOWED.join(", ")}`;

/** Refuses any variable a sandbox may not set for a host command (InvalidParams). */
export function checkGuestEnv(env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) {
    if (isInjector(name)) {
      throw new RpcError(
        "InvalidParams",
        `env ${JSON.stringify(name)} can change what the host tool runs; ${accepted()}`,
      );
    }
    if (!GUEST_ENV_ALLOWED.includes(name)) {
      throw new RpcError(
        "InvalidParams",
        `env ${JSON.stringify(name)} is not accepted for host commands; ${accepted()}`,
      );
    }
    if (typeof value !== "string" || value.includes("\0")) {
      throw new RpcError("InvalidParams", `env ${name}: the value must be a string without NUL`);
    }
    if (Buffer.byteLength(value) > GUEST_ENV_MAX_VALUE) {
      throw new RpcError(
        "InvalidParams",
        `env ${name}: the value is longer than ${GUEST_ENV_MAX_VALUE} bytes`,
      );
    }
  }
}

export interface HostExecEnvOptions {
  daemonEnv: Readonly<Record<string, string | undefined>>;
  home: string;
  /** Already checked with checkGuestEnv; filtered again here. */
  guestEnv: Record<string, string>;
  /** `sandbox.env_passthrough`: names whose values come from the daemon's environment. */
  passthrough: readonly string[];
  /** `sandbox.env`. */
  sandboxEnv: Readonly<Record<string, string>>;
}

/** Taken from the daemon's own environment; HOME and TMPDIR are set, everything else is absent. */
const FROM_DAEMON = ["PATH", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ"];
const LOCALE = /^LC_[A-Z]+$/;

/** Why hostExecEnv leaves out `name` from the user's settings, or undefined when it keeps it. */
export function droppedReason(name: string, value = ""): string | undefined {
  if (isInjector(name)) return "can change what the host tool runs";
  if (HOST_SERVICE_NAMES.has(name))
    return "points the tool at a host service host commands never reach";
  if (FIXED_NAMES.has(name)) return "is set by wm for host commands";
  if (value.includes("\0")) return "its value contains NUL";
  return undefined;
}

/**
 * The environment of a host command: PATH, USER, LOGNAME, LANG, LC_*, TZ from the daemon;
 * HOME and TMPDIR=/tmp; the sandbox's allowed variables; then `sandbox.env_passthrough` and
 * `sandbox.env` — minus any injector (LD_*, GIT_*, NODE_OPTIONS, …), agent or engine socket,
 * PATH, HOME or TMPDIR they name: their names are returned in `dropped` for the caller to log
 * (droppedReason says why).
 */
export function hostExecEnvWithDropped(opts: HostExecEnvOptions): {
  env: Record<string, string>;
  dropped: string[];
} {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.daemonEnv)) {
    if (value !== undefined && (FROM_DAEMON.includes(name) || LOCALE.test(name))) env[name] = value;
  }
  env.HOME = opts.home;
  env.TMPDIR = "/tmp";
  for (const [name, value] of Object.entries(opts.guestEnv)) {
    if (GUEST_ENV_ALLOWED.includes(name) && !value.includes("\0")) env[name] = value;
  }
  const dropped: string[] = [];
  const set = (name: string, value: string) => {
    if (droppedReason(name, value) === undefined) env[name] = value;
    else if (!dropped.includes(name)) dropped.push(name);
  };
  for (const name of opts.passthrough) {
    const value = opts.daemonEnv[name];
    if (value !== undefined) set(name, value);
  }
  for (const [name, value] of Object.entries(opts.sandboxEnv)) set(name, value);
  return { env, dropped };
}

export function hostExecEnv(opts: HostExecEnvOptions): Record<string, string> {
  return hostExecEnvWithDropped(opts).env;
}
