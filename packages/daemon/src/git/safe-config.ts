/**
 * Passed as `-c` before every subcommand, so they beat every configuration file. `alias.*` is
 * not here: git never consults aliases for built-in commands, and safe-git only runs built-ins.
 */
export const STATIC_OVERRIDES: readonly (readonly [string, string])[] = [
  ["safe.bareRepository", "explicit"],
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
  ["core.sshCommand", "false"],
  ["core.pager", "cat"],
  ["core.editor", "true"],
  ["core.askPass", "/bin/false"],
  ["sequence.editor", "true"],
  ["credential.helper", ""],
  ["diff.external", ""],
  ["diff.submodule", "short"],
  ["diff.ignoreSubmodules", "all"],
  ["status.submoduleSummary", "false"],
  ["submodule.recurse", "false"],
  ["protocol.ext.allow", "never"],
  ["uploadpack.packObjectsHook", ""],
  ["commit.gpgSign", "false"],
  ["tag.gpgSign", "false"],
  ["log.showSignature", "false"],
  ["merge.verifySignatures", "false"],
  ["gpg.program", "false"],
  ["gpg.ssh.program", "false"],
  ["gpg.x509.program", "false"],
];

/** Does what git's built-in text merge does, so a merge through a neutralised driver still merges. */
export const TEXT_MERGE_DRIVER = "git merge-file --marker-size=%L %A %O %B";

const DRIVER_KEYS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  filter: [
    ["clean", ""],
    ["smudge", ""],
    ["process", ""],
    ["required", "false"],
  ],
  diff: [
    ["textconv", ""],
    ["command", ""],
    ["cachetextconv", "false"],
  ],
  merge: [["driver", TEXT_MERGE_DRIVER]],
};

/** The `--get-regexp` pattern whose output {@link driverOverrides} reads. */
export const DRIVER_SECTIONS_PATTERN = "^(filter|diff|merge)\\.";

/**
 * Overrides for every `filter.<name>`, `diff.<name>` and `merge.<name>` that `listing` (the
 * output of `git config -z --get-regexp`) defines. Names are case-sensitive and may hold any
 * character but a newline, including `=` and spaces.
 */
export function driverOverrides(listing: string): [string, string][] {
  const names = new Map<string, Set<string>>();
  for (const record of listing.split("\0")) {
    const key = record.split("\n", 1)[0] ?? "";
    const first = key.indexOf(".");
    const last = key.lastIndexOf(".");
    if (first <= 0 || last <= first + 1) continue;
    const section = key.slice(0, first).toLowerCase();
    if (!(section in DRIVER_KEYS)) continue;
    const set = names.get(section) ?? new Set<string>();
    set.add(key.slice(first + 1, last));
    names.set(section, set);
  }
  const out: [string, string][] = [];
  for (const [section, subsections] of names) {
    for (const name of subsections) {
      for (const [variable, value] of DRIVER_KEYS[section] ?? []) {
        out.push([`${section}.${name}.${variable}`, value]);
      }
    }
  }
  return out;
}

/** Passes `pairs` as GIT_CONFIG_COUNT/KEY/VALUE: unlike `-c`, keys may contain `=`. */
export function configEnv(pairs: readonly (readonly [string, string])[]): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}
