import path from "node:path";
import type { ConfigDiagnostic, Result } from "@wm/protocol";
import { ErrorCode, RpcError } from "@wm/protocol/errors";
import { jsonSafe } from "@wm/protocol/text";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { configEditCommand, configPathCommand } from "./config-files.ts";
import { configReferenceCommand } from "./config-reference.ts";
import { defineCommand } from "./spec.ts";

type Loaded = Result<"config.get">;

export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = `${d.file}${d.line !== undefined ? `:${d.line}${d.column !== undefined ? `:${d.column}` : ""}` : ""}`;
  return `${where}: ${d.key ? `${d.key}: ` : ""}${d.message}`;
}

function leaves(value: unknown, prefix: string, out: Array<[string, unknown]>): void {
  if (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0
  ) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, value]);
  }
}

function sourceOf(sources: Record<string, string>, key: string): string {
  for (let k = key; k; k = k.includes(".") ? k.slice(0, k.lastIndexOf(".")) : "") {
    if (sources[k]) return sources[k] as string;
  }
  return "default";
}

function render(c: Loaded): string {
  const lines = [
    `global config:  ${c.files.global ?? "(none)"}`,
    `project config: ${c.files.project ?? "(none)"}`,
    "",
  ];
  const entries: Array<[string, unknown]> = [];
  leaves(c.config, "", entries);
  const width = Math.min(48, Math.max(...entries.map(([k]) => k.length)));
  for (const [key, value] of entries) {
    lines.push(`${key.padEnd(width)}  ${JSON.stringify(value)}  # ${sourceOf(c.sources, key)}`);
  }
  const notYet = c.unsupported.filter((k) => !Object.hasOwn(c.notPlanned, k));
  if (notYet.length > 0) {
    lines.push("", "accepted but not acted on by wm yet:", ...notYet.map((k) => `  ${k}`));
  }
  const never = Object.entries(c.notPlanned);
  if (never.length > 0) {
    lines.push(
      "",
      "accepted and never acted on by wm:",
      ...never.map(([k, why]) => `  ${k}: ${why}`),
    );
  }
  if (c.warnings.length > 0)
    lines.push("", "warnings:", ...c.warnings.map((w) => `  ${formatDiagnostic(w)}`));
  return lines.join("\n");
}

export const configCommand = defineCommand({
  name: "config",
  summary: "Show the effective configuration and where each key came from",
  description:
    "Merges the global file ($XDG_CONFIG_HOME/workmux/config.yaml) with the project's .workmux.yaml, validates both, and prints every key with the file it came from.",
  json: true,
  subcommands: [configPathCommand, configEditCommand, configReferenceCommand],
  options: {
    cwd: {
      type: "string",
      valueName: "DIR",
      description: "resolve the project config from DIR (default: the current directory)",
    },
  },
  run: async (ctx) => {
    const cwd = path.resolve(ctx.cwd, typeof ctx.options.cwd === "string" ? ctx.options.cwd : ".");
    try {
      const loaded = await ctx.daemon((c) => c.call("config.get", { cwd }));
      report(ctx, loaded, render);
      return ExitCode.Ok;
    } catch (err) {
      if (err instanceof RpcError && err.code === ErrorCode.ConfigInvalid) {
        const diagnostics =
          (err.data as { diagnostics?: ConfigDiagnostic[] } | undefined)?.diagnostics ?? [];
        if (ctx.json)
          ctx.io.stdout.write(`${jsonSafe(JSON.stringify({ error: err.toJSON() }, null, 2))}\n`);
        throw new CliError(
          "the configuration is invalid",
          ExitCode.ConfigInvalid,
          "fix the keys named above and run `wm config` again",
          diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join("\n"),
        );
      }
      throw err;
    }
  },
});
