const PASSED_THROUGH = new Set(["PATH", "HOME", "LANG", "TZ"]);
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Fixed settings every git child gets; nothing of the caller's `GIT_*` survives. */
export const FIXED_GIT_ENV: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_ATTR_NOSYSTEM: "1",
  GIT_PAGER: "cat",
  GIT_EDITOR: "true",
  GIT_SEQUENCE_EDITOR: "true",
  GIT_ASKPASS: "/bin/false",
  GIT_OPTIONAL_LOCKS: "0",
  GIT_NO_REPLACE_OBJECTS: "1",
};

/**
 * The environment for a git child, built from an allow-list of `source` (PATH, HOME, LANG,
 * LC_*, TZ) plus {@link FIXED_GIT_ENV}. Everything else (every `GIT_*`, PAGER, EDITOR,
 * SSH_ASKPASS, LD_PRELOAD, NODE_OPTIONS, …) is dropped.
 */
export function buildSafeGitEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (PASSED_THROUGH.has(name) || name.startsWith("LC_")) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  return { ...env, ...FIXED_GIT_ENV };
}
