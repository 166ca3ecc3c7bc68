import { spawn } from "node:child_process";
import { displaySafe, RpcError } from "@wm/protocol";
import type { LoadedConfig } from "../config/index.ts";
import { DEFAULT_HOOK_SHELL } from "./hooks.ts";
import { branchNameProblem } from "./names.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The longest branch name `wm add -A` makes (before a `-2`, `-3`, … suffix). */
export const MAX_AUTO_NAME = 40;
const TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 64 * 1024;

/**
 * A branch name from free text: lowercase, runs of anything but `a-z0-9` become one `-`, no
 * leading or trailing `-`, cut at a word boundary to at most {@link MAX_AUTO_NAME} characters.
 * Empty when the text has no letter or digit.
 */
export function slugify(text: string, max = MAX_AUTO_NAME): string {
  const words = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  let slug = "";
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > max) {
      if (!slug) slug = word.slice(0, max);
      break;
    }
    slug = next;
  }
  return slug;
}

/** The first line of `text` with something on it, trimmed. */
function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? ""
  );
}

/** Runs `auto_name.command` through hook_shell with the prompt on stdin; its stdout, or an error. */
function runNamer(
  command: string,
  shell: readonly string[],
  prompt: string,
  env: Env,
  cwd: string,
) {
  const [program, ...args] = shell.length > 0 ? shell : DEFAULT_HOOK_SHELL;
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return new Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }>(
    (resolve) => {
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      const child = spawn(program as string, [...args, command], {
        cwd,
        env: childEnv,
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, TIMEOUT_MS);
      child.stdout.on("data", (c: Buffer) => {
        if (stdout.length < OUTPUT_LIMIT) stdout += c.toString("utf8");
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr = (stderr + c.toString("utf8")).slice(-OUTPUT_LIMIT);
      });
      child.stdin.on("error", () => undefined);
      child.stdin.end(prompt);
      child.on("error", (err) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: `${stderr}${err.message}`, timedOut });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
      });
    },
  );
}

/**
 * The name `wm add -A` makes from `prompt`: with `auto_name.command` (global file only) its
 * output's first non-empty line, slugged; without it, the prompt slugged. The command runs once.
 */
export async function nameFromPrompt(
  loaded: LoadedConfig,
  prompt: string,
  opts: { env: Env; cwd: string; withoutPlaceholders?: boolean },
): Promise<string> {
  const command = loaded.config.auto_name?.command;
  const where = `auto_name.command in ${loaded.sources["auto_name.command"] ?? loaded.files.global ?? "the global config"}`;
  let slug: string;
  if (command) {
    const res = await runNamer(
      command,
      loaded.config.hook_shell ?? DEFAULT_HOOK_SHELL,
      prompt,
      opts.env,
      opts.cwd,
    );
    if (res.code !== 0 || res.timedOut) {
      const said = displaySafe(res.stderr.trim().split("\n").slice(-3).join(" "));
      throw new RpcError(
        "Refused",
        `${where} (\`${displaySafe(command)}\`) ${res.timedOut ? `did not finish within ${TIMEOUT_MS / 1000} s` : `exited with ${res.code}`}${said ? `: ${said}` : ""}; nothing was created. Fix the command, remove it to name branches from the prompt itself, or give the branch name instead of -A`,
        { key: "auto_name.command", exitCode: res.code },
      );
    }
    const line = firstLine(res.stdout);
    slug = slugify(line);
    if (!slug)
      throw new RpcError(
        "Refused",
        `${where} (\`${displaySafe(command)}\`) printed no usable branch name (${line ? `"${displaySafe(line.slice(0, 80))}"` : "nothing"}); nothing was created. It should print the name on its first line`,
        { key: "auto_name.command" },
      );
  } else {
    // `{{ index }}`, `{{ VAR }}` differ per agent; the shared name leaves them out.
    slug = slugify(opts.withoutPlaceholders ? prompt.replace(/\{\{[^{}]*\}\}/g, " ") : prompt);
    if (!slug)
      throw new RpcError(
        "InvalidParams",
        "-A names the branch from the prompt, and the prompt has no letter or digit; give the branch name instead",
      );
  }
  const problem = branchNameProblem(slug);
  if (problem)
    throw new RpcError(
      "InvalidParams",
      `the name made from the prompt, "${displaySafe(slug)}", is not a valid branch name: ${problem}; give the branch name instead of -A`,
    );
  return slug;
}

/**
 * `wm add -A`: a branch name for `prompt` ({@link nameFromPrompt}), with `-2`, `-3`, …
 * appended while `taken` says the name is in use.
 */
export async function autoBranchName(
  loaded: LoadedConfig,
  prompt: string,
  opts: { env: Env; cwd: string; taken: (branch: string) => Promise<boolean> },
): Promise<string> {
  const slug = await nameFromPrompt(loaded, prompt, opts);
  for (let n = 1; n <= 100; n++) {
    const candidate = n === 1 ? slug : `${slug}-${n}`;
    if (!(await opts.taken(candidate))) return candidate;
  }
  throw new RpcError(
    "Conflict",
    `branches ${slug} to ${slug}-100 all exist; give the branch name instead of -A`,
  );
}
