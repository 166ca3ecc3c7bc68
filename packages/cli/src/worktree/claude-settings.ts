import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  openDirUnder,
  PlantedPathError,
  readFileUnder,
  writeFileUnder,
} from "@wm/daemon/fs/no-follow";

/** Claude Code hook events and the status each reports. */
export const CLAUDE_STATUS_HOOKS = [
  ["UserPromptSubmit", "wm status set working"],
  ["Notification", "wm status set waiting"],
  ["Stop", "wm status set done"],
] as const;

export class SettingsShapeError extends Error {}

interface HookGroup {
  matcher?: string;
  hooks?: Array<{ type?: string; command?: string }>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Adds the status hooks to a settings object in place; returns the events it added. */
export function addStatusHooks(settings: Record<string, unknown>, file: string): string[] {
  settings.hooks ??= {};
  const hooks = settings.hooks;
  if (!isObject(hooks))
    throw new SettingsShapeError(`${file}: "hooks" is not an object; fix it by hand`);
  const added: string[] = [];
  for (const [event, command] of CLAUDE_STATUS_HOOKS) {
    hooks[event] ??= [];
    const groups = hooks[event];
    if (!Array.isArray(groups))
      throw new SettingsShapeError(`${file}: "hooks.${event}" is not a list; fix it by hand`);
    const present = (groups as HookGroup[]).some(
      (g) =>
        isObject(g) &&
        Array.isArray(g.hooks) &&
        g.hooks.some((h) => isObject(h) && h.command === command),
    );
    if (present) continue;
    groups.push({ hooks: [{ type: "command", command }] });
    added.push(event);
  }
  return added;
}

/** Reading and replacing the settings file: plain paths, or no-follow under a repository root. */
interface SettingsIo {
  read(): Promise<string | undefined>;
  mode(): Promise<number | undefined>;
  write(text: string, mode: number): Promise<void>;
}

function plainIo(file: string): SettingsIo {
  return {
    async read() {
      try {
        return await fs.readFile(file, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        return undefined;
      }
    },
    async mode() {
      return (await fs.stat(file).catch(() => undefined))?.mode;
    },
    async write(text, mode) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
      await fs.writeFile(tmp, text, { mode, flag: "wx" });
      await fs.rename(tmp, file);
    },
  };
}

/**
 * A repository (possibly an agent's worktree) is not trusted content: `.claude` or the settings
 * file may be a symbolic link planted to make this command read or write elsewhere. Nothing
 * under `root` is followed; a link is refused.
 */
function rootedIo(root: string, rel: string): SettingsIo {
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PlantedPathError)
        throw new SettingsShapeError(`${err.message}; nothing was changed`);
      throw err;
    }
  };
  return {
    read: () => guard(() => readFileUnder(root, rel)),
    mode: () =>
      guard(async () => {
        const dir = await openDirUnder(root, path.dirname(rel)).catch((err) => {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
          throw err;
        });
        if (!dir) return undefined;
        try {
          return await dir.modeOf(path.basename(rel));
        } finally {
          await dir.close();
        }
      }),
    write: (text, mode) =>
      guard(async () => {
        await writeFileUnder(root, rel, text, { mode });
      }),
  };
}

/**
 * Reads `file` (absent = {}), adds the hooks, and replaces it atomically when anything changed.
 * With `root` (the repository `file` lies in) no symbolic link below `root` is followed.
 */
export async function mergeClaudeSettings(
  file: string,
  root?: string,
): Promise<{ file: string; added: string[] }> {
  const io = root === undefined ? plainIo(file) : rootedIo(root, path.relative(root, file));
  const text = await io.read();
  let settings: unknown = {};
  if (text !== undefined && text.trim() !== "") {
    try {
      settings = JSON.parse(text);
    } catch (err) {
      throw new SettingsShapeError(
        `${file} is not valid JSON (${(err as Error).message}); nothing was changed`,
      );
    }
  }
  if (!isObject(settings))
    throw new SettingsShapeError(`${file} does not hold a JSON object; nothing was changed`);
  const added = addStatusHooks(settings, file);
  if (added.length === 0) return { file, added };
  const mode = (await io.mode()) ?? 0o644;
  await io.write(`${JSON.stringify(settings, null, 2)}\n`, mode & 0o777);
  return { file, added };
}
