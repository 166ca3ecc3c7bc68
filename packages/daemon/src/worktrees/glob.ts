import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

const GLOB_CHARS = /[*?[{]/;
const MAX_MATCHES = 10_000;

/** A glob (`*`, `?`, `**`, `[a-z]`, `[!x]`, `{a,b}`) as an anchored regular expression over "/" paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      const before = i === 0 || glob[i - 1] === "/";
      const after = glob[i + 2] === "/" || i + 2 === glob.length;
      if (before && after) {
        re += glob[i + 2] === "/" ? "(?:[^/]*/)*" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
        continue;
      }
    }
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) re += "|";
    else re += c.replace(/[.+^$()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Every directory on the way to `parts` is a real directory, not a symlink. */
async function plainDirs(root: string, parts: readonly string[]): Promise<boolean> {
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/** Why `glob` cannot be used (absolute, `..`, empty), or undefined. */
export function globProblem(glob: string): string | undefined {
  if (glob.trim() === "") return "empty pattern";
  if (path.isAbsolute(glob))
    return "absolute patterns are not allowed; give a path relative to the repository";
  if (glob.split("/").includes("..")) return '".." is not allowed';
  return undefined;
}

/**
 * Paths under `root` (relative, "/"-separated) matching `glob`. Walks only below the pattern's
 * literal prefix, never through a symbolic link or into `.git`, and stops at 10 000 matches.
 */
export async function expandGlob(root: string, glob: string): Promise<string[]> {
  const clean = glob.replace(/^\.\//, "").replace(/\/+$/, "");
  const segments = clean.split("/");
  const literal: string[] = [];
  for (const s of segments) {
    if (GLOB_CHARS.test(s)) break;
    literal.push(s);
  }
  const parents = literal.length === segments.length ? literal.slice(0, -1) : literal;
  if (!(await plainDirs(root, parents))) return [];
  if (literal.length === segments.length) {
    return (await lstat(path.join(root, clean)).catch(() => undefined)) ? [clean] : [];
  }
  const maxDepth = clean.includes("**")
    ? Number.POSITIVE_INFINITY
    : segments.length - literal.length;
  const matcher = globToRegExp(clean);
  const out: string[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    if (depth > maxDepth || out.length >= MAX_MATCHES) return;
    const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name === ".git") continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (matcher.test(child)) out.push(child);
      else if (entry.isDirectory()) await walk(child, depth + 1);
    }
  };
  await walk(literal.join("/"), 1);
  return out.sort();
}
