import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { ConfigDiagnostic } from "@wm/protocol";
import { dropGlobalOnlyKeys } from "./global-only.ts";
import { normaliseFile } from "./normalise.ts";
import { type Locator, parseYaml } from "./parse.ts";
import type { FileConfig } from "./schema.ts";
import { isTree, type Tree, withoutNulls } from "./tree.ts";
import { validateFile } from "./validate.ts";

export interface LoadedFile {
  file: string;
  /** Checked, with legacy keys moved to their current places. */
  value: FileConfig;
  /** The keys as written that take effect (unknown and dropped keys removed). */
  known: Tree;
  locate: Locator;
}

export interface Problems {
  errors: ConfigDiagnostic[];
  warnings: ConfigDiagnostic[];
}

export type FileRole = { kind: "global" } | { kind: "project"; globalFile: string };

/** Config files are small; a larger one (an agent can write a project file) is refused unread. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's text; a FIFO or device is refused without blocking, and so is an oversized file. */
async function readConfigText(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error("it is not a regular file");
    const tooBig = (size: number) =>
      new Error(`it is ${size} bytes; wm reads config files of up to ${MAX_CONFIG_BYTES} bytes`);
    if (st.size > MAX_CONFIG_BYTES) throw tooBig(st.size);
    // Read at most one byte past the limit, in case the file grew since the stat.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES) throw tooBig(length);
    }
    return buf.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Reads, parses and checks one config file, adding what is wrong with it to `problems`. */
export async function loadConfigFile(
  file: string,
  role: FileRole,
  problems: Problems,
): Promise<LoadedFile | undefined> {
  let text: string;
  try {
    text = await readConfigText(file);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    problems.errors.push({ file, key: "", message: `cannot read the file: ${reason}` });
    return undefined;
  }
  const parsed = parseYaml(file, text);
  problems.errors.push(...parsed.errors);
  problems.warnings.push(...parsed.warnings);
  if (parsed.errors.length > 0) return undefined;

  const raw = withoutNulls(parsed.value ?? {});
  if (!isTree(raw)) {
    problems.errors.push({
      file,
      key: "",
      ...parsed.locate([]),
      message: "expected a map of keys (key: value) at the top level",
    });
    return undefined;
  }
  if (role.kind === "project") {
    problems.warnings.push(...dropGlobalOnlyKeys(file, raw, parsed.locate, role.globalFile));
  }
  const checked = validateFile(file, raw, parsed.locate);
  problems.warnings.push(...checked.warnings);
  problems.errors.push(...checked.errors);
  if (checked.value === undefined) return undefined;

  const normalised = normaliseFile(file, checked.value, parsed.locate);
  problems.warnings.push(...normalised.warnings);
  return { file, value: normalised.value, known: checked.known, locate: parsed.locate };
}
