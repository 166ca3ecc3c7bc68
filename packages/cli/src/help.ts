import type { CommandSpec, OptionSpec } from "./commands/spec.ts";
import { EXIT_CODE_HELP } from "./exit-codes.ts";

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  help: { type: "boolean", short: "h", description: "show help for this command" },
};

export const JSON_OPTION: OptionSpec = { type: "boolean", description: "print one JSON document" };

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...entries.map(([f]) => f.length));
  return entries.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function allOptions(cmd: Pick<CommandSpec, "options" | "json">): Record<string, OptionSpec> {
  return { ...(cmd.options ?? {}), ...(cmd.json ? { json: JSON_OPTION } : {}), ...GLOBAL_OPTIONS };
}

/** A command whose subcommands are loaded: help lists their summaries. */
export type HelpCommand = Omit<CommandSpec, "subcommands"> & {
  subcommands?: readonly Pick<CommandSpec, "name" | "aliases" | "summary">[];
};

export function renderHelp(path: readonly string[], cmd: HelpCommand, isRoot: boolean): string {
  const lines: string[] = [];
  const args = (cmd.args ?? [])
    .map((a) => (a.variadic ? `[-- ${a.name}...]` : a.required ? `<${a.name}>` : `[${a.name}]`))
    .join(" ");
  const usage = cmd.subcommands
    ? `${path.join(" ")} ${cmd.run ? `[options]\n       ${path.join(" ")} ` : ""}<command>`
    : `${path.join(" ")} [options]${args ? ` ${args}` : ""}`;
  lines.push(cmd.summary, "", `Usage: ${usage}`);
  if (cmd.description) lines.push("", cmd.description);
  if (cmd.subcommands) {
    lines.push("", "Commands:");
    const names = (s: CommandSpec) => [s.name, ...(s.aliases ?? [])].join(", ");
    const width = Math.max(...cmd.subcommands.map((s) => names(s).length));
    for (const s of cmd.subcommands) lines.push(`  ${names(s).padEnd(width)}  ${s.summary}`);
  }
  if (cmd.args && cmd.args.length > 0) {
    lines.push("", "Arguments:");
    const width = Math.max(...cmd.args.map((a) => a.name.length));
    for (const a of cmd.args) {
      const choices = a.choices ? ` (${a.choices.join("|")})` : "";
      lines.push(`  ${a.name.padEnd(width)}  ${a.description}${choices}`);
    }
  }
  const opts = isRoot
    ? {
        ...allOptions(cmd),
        version: { type: "boolean", short: "V", description: "print the version" } as OptionSpec,
      }
    : allOptions(cmd);
  lines.push("", "Options:", ...optionLines(opts));
  if (isRoot) {
    lines.push("", "Exit codes:");
    for (const [code, meaning] of EXIT_CODE_HELP)
      lines.push(`  ${String(code).padStart(3)}  ${meaning}`);
    lines.push("", `Run \`${path[0]} <command> --help\` for a command's options.`);
  } else if (cmd.subcommands) {
    lines.push("", `Run \`${path.join(" ")} <command> --help\` for a command's options.`);
  }
  return `${lines.join("\n")}\n`;
}
