import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Result } from "@wm/protocol";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

type Files = Result<"config.files">;

const cwdOption = {
  cwd: {
    type: "string",
    valueName: "DIR",
    description: "resolve the project config from DIR (default: the current directory)",
  },
} as const;

function filesAt(ctx: CommandContext): Promise<Files> {
  const dir = typeof ctx.options.cwd === "string" ? ctx.options.cwd : ".";
  return ctx.daemon((c) => c.call("config.files", { cwd: path.resolve(ctx.cwd, dir) }));
}

function renderFiles(f: Files): string {
  const missing = " (not present)";
  const lines = [`global:  ${f.global.path}${f.global.exists ? "" : missing}`];
  if (f.project) lines.push(`project: ${f.project}`);
  else if (f.repoRoot) lines.push(`project: ${path.join(f.repoRoot, ".workmux.yaml")}${missing}`);
  else lines.push("project: (none: not in a git repository)");
  if (f.trusted) lines.push(`hooks and panes from: ${f.trusted}`);
  return lines.join("\n");
}

export const configPathCommand = defineCommand({
  name: "path",
  summary: "Print the config files wm reads here: global, then project (later wins)",
  json: true,
  options: cwdOption,
  run: async (ctx) => {
    report(ctx, await filesAt(ctx), renderFiles);
    return ExitCode.Ok;
  },
});

const HEADER = `# wm / workmux global configuration. Every key is described in wm's docs/configuration.md;
# "wm config" shows the effective values and where each came from.
# Project settings go in .workmux.yaml at a repository's root; this file is read first.
`;

/** Creates the file with a comment header when it does not exist; never follows a symlink there. */
async function ensureFile(file: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, HEADER, { flag: "wx", mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

export const configEditCommand = defineCommand({
  name: "edit",
  summary: "Open the global config file in $VISUAL or $EDITOR (created with a header if missing)",
  run: async (ctx) => {
    const editor = ctx.env.VISUAL || ctx.env.EDITOR;
    if (!editor) {
      throw new CliError(
        "neither VISUAL nor EDITOR is set",
        ExitCode.Usage,
        "set one (`export EDITOR=vi`), or run `wm config path` and open the file yourself",
      );
    }
    const { global } = await filesAt(ctx);
    if (!global.exists && (await ensureFile(global.path)))
      ctx.io.stderr.write(`created ${global.path}\n`);
    // Like git: the variable is a shell command line (`code --wait`), the file its last argument.
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn("/bin/sh", ["-c", `${editor} "$1"`, "sh", global.path], {
        stdio: "inherit",
        env: ctx.env,
      });
      child.on("error", reject);
      child.on("exit", (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    if (code !== 0) throw new CliError(`the editor (${editor}) exited with ${code}`);
    return ExitCode.Ok;
  },
});
