import { promises as fs } from "node:fs";
import path from "node:path";

/** Fills `@NAME@` placeholders; every placeholder in the template must have a value. */
export function renderTemplate(
  name: string,
  template: string,
  values: Readonly<Record<string, string>>,
): string {
  const unknown = new Set<string>();
  const out = template.replace(/@([A-Z][A-Z0-9_]*)@/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) unknown.add(key);
    return value ?? "";
  });
  if (unknown.size > 0) {
    throw new Error(
      `template ${name} has placeholders without a value: ${[...unknown].join(", ")}`,
    );
  }
  return out;
}

/** Rejects values that would break out of one line of a unit file or plist string. */
export function assertPrintable(what: string, value: string): string {
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    throw new Error(`${what} contains a control character: ${JSON.stringify(value)}`);
  }
  return value;
}

/** Escapes text for a double-quoted word in a systemd directive (specifiers and C escapes). */
export function systemdQuoted(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
}

/** Escapes text for a double-quoted ExecStart= argument, where `$` also expands variables. */
export function systemdExecArg(value: string): string {
  return systemdQuoted(value).replace(/\$/g, "$$$$");
}

export function xmlText(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Reads a checked-in service template (`systemd/…`, `launchd/…`) from the install directory. */
export async function readTemplate(templateDir: string, relativePath: string): Promise<string> {
  const file = path.join(templateDir, relativePath);
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(
      `service template ${file} cannot be read (${code}); is wm installed completely?`,
    );
  }
}

/** The install directory holding `systemd/` and `launchd/`, given `<install-dir>/dist/wmd.js`. */
export function templateDirFor(daemonEntry: string): string {
  return path.dirname(path.dirname(daemonEntry));
}

/** PATH for the daemon: the installing shell's PATH, with node's own directory first if absent. */
export function daemonPath(envPath: string | undefined, nodePath: string): string {
  const dirs = (envPath || "/usr/local/bin:/usr/bin:/bin").split(":").filter((d) => d.length > 0);
  const nodeDir = path.dirname(nodePath);
  return (dirs.includes(nodeDir) ? dirs : [nodeDir, ...dirs]).join(":");
}
