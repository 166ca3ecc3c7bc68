import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

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

/** Reads `file` (absent = {}), adds the hooks, and replaces it atomically when anything changed. */
export async function mergeClaudeSettings(
  file: string,
): Promise<{ file: string; added: string[] }> {
  let text: string | undefined;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
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
  await fs.mkdir(path.dirname(file), { recursive: true });
  const mode = (await fs.stat(file).catch(() => undefined))?.mode ?? 0o644;
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, {
    mode: mode & 0o777,
    flag: "wx",
  });
  await fs.rename(tmp, file);
  return { file, added };
}
