import { constants, promises as fs } from "node:fs";
import path from "node:path";
import type { PathExists, Which } from "./types.ts";

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Looks `command` up on PATH, then in the usual system directories (sbin included). */
export function createWhich(env: Readonly<Record<string, string | undefined>>): Which {
  const dirs = [...(env.PATH ?? "").split(path.delimiter), ...SYSTEM_DIRS].filter((d) =>
    path.isAbsolute(d),
  );
  const unique = [...new Set(dirs)];
  return async (command) => {
    if (command.includes("/")) return (await isExecutableFile(command)) ? command : undefined;
    for (const dir of unique) {
      const candidate = path.join(dir, command);
      if (await isExecutableFile(candidate)) return candidate;
    }
    return undefined;
  };
}

export const pathExists: PathExists = async (p) => {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
};
