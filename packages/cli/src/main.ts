import { parseArgs } from "node:util";
import { errorInfo, errorName, RpcError } from "@wm/protocol/errors";
import { displaySafe } from "@wm/protocol/text";
import { WM_VERSION } from "@wm/protocol/version";
import { withDaemon } from "./client/connect.ts";
import { pathsFor } from "./client/daemon-paths.ts";
import { DaemonConnectionLostError, DaemonNotRunningError } from "./client/rpc-client.ts";
import { rootCommand } from "./commands/root.ts";
import {
  type CommandContext,
  type CommandSpec,
  type Io,
  loadCommand,
  type OptionSpec,
} from "./commands/spec.ts";
import { CliError, UsageError } from "./errors.ts";
import { ExitCode, exitCodeForRpc } from "./exit-codes.ts";
import { allOptions, renderHelp } from "./help.ts";

interface Resolved {
  path: string[];
  command: CommandSpec;
  rest: string[];
}

/** Walks the command table down `argv`, importing each command's module on the way. */
async function resolveCommand(argv: readonly string[]): Promise<Resolved> {
  const path = ["wm"];
  let command = rootCommand;
  let i = 0;
  while (command.subcommands && i < argv.length) {
    const word = argv[i] as string;
    if (word.startsWith("-")) break;
    const next = command.subcommands.find((s) => s.name === word || s.aliases?.includes(word));
    if (!next) {
      throw new UsageError(
        `unknown command "${[...path.slice(1), word].join(" ")}"`,
        `run \`${path.join(" ")} --help\` to see the commands`,
      );
    }
    path.push(word);
    command = await loadCommand(next);
    i++;
  }
  return { path, command, rest: argv.slice(i) };
}

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * `rest` parsed against the command's options. Plain words are all positionals and need no
 * parser: a one-shot `wm daemon status` or `wm status set done` does not load Node's
 * (docs/performance.md).
 */
function parseOptions(
  rest: readonly string[],
  options: Record<string, OptionSpec>,
  path: readonly string[],
): Parsed {
  if (rest.every((a) => !a.startsWith("-"))) return { values: {}, positionals: [...rest] };
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          o.short ? { type: o.type, short: o.short } : { type: o.type },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (err) {
    throw new UsageError(
      `${(err as Error).message.split("\n")[0]}`,
      `run \`${path.join(" ")} --help\``,
    );
  }
}

/** Messages, details and hints can quote names, paths and hook output from an agent. */
function printError(io: Io, err: CliError | RpcError): void {
  const safe = (text: string) => displaySafe(text, { multiline: true });
  io.stderr.write(`wm: ${safe(err.message)}\n`);
  const details = err instanceof CliError ? err.details : issuesOf(err);
  if (details) io.stderr.write(`${safe(details)}\n`);
  const hint = err instanceof CliError ? err.hint : userHint(err);
  if (hint) io.stderr.write(`hint: ${safe(hint)}\n`);
}

/**
 * What a user should do next about a daemon error: the daemon's own hint when it sent one;
 * the error table's only when the message is the table's too (a specific message says what
 * to do itself), and never the table's notes for API clients about `error.data`.
 */
function userHint(err: RpcError): string | undefined {
  const data = err.data as { hint?: unknown } | undefined;
  if (typeof data?.hint === "string") return data.hint;
  const name = errorName(err.code);
  if (!name || err.message !== errorInfo[name].message) return undefined;
  const hint = errorInfo[name].hint;
  return hint.includes("error.data") ? undefined : hint;
}

/** The fields a daemon refused, one per line, when it listed them. */
function issuesOf(err: RpcError): string | undefined {
  const issues = (err.data as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues)) return undefined;
  const lines = issues.flatMap((i: { path?: unknown; message?: unknown }) =>
    typeof i?.message === "string"
      ? [
          `  ${Array.isArray(i.path) && i.path.length > 0 ? `${i.path.join(".")}: ` : ""}${i.message}`,
        ]
      : [],
  );
  return lines.length > 0 ? lines.join("\n") : undefined;
}

function toCliError(err: unknown): CliError | RpcError | undefined {
  if (err instanceof CliError || err instanceof RpcError) return err;
  if (err instanceof DaemonConnectionLostError) {
    return new CliError(
      err.message,
      ExitCode.DaemonUnavailable,
      "see `wm daemon logs`; the next wm command starts a new daemon",
    );
  }
  if (err instanceof DaemonNotRunningError) {
    return new CliError(err.message, ExitCode.DaemonUnavailable, "start it with `wm daemon start`");
  }
  return undefined;
}

/** Run `wm` with `argv` (without node and script); returns the exit code. */
export async function run(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<number> {
  try {
    if (argv[0] === "--version" || argv[0] === "-V") {
      io.stdout.write(`wm ${WM_VERSION}\n`);
      return ExitCode.Ok;
    }
    const { path, command, rest } = await resolveCommand(argv);
    const options = allOptions(command);
    const parsed = parseOptions(rest, options, path);
    const values = parsed.values;
    if (values.help || (!command.run && command.subcommands)) {
      const shown = {
        ...command,
        subcommands:
          command.subcommands && (await Promise.all(command.subcommands.map(loadCommand))),
      };
      if (!values.help && parsed.positionals.length === 0 && path.length > 1) {
        io.stderr.write(renderHelp(path, shown, false));
        return ExitCode.Usage;
      }
      io.stdout.write(renderHelp(path, shown, path.length === 1));
      return ExitCode.Ok;
    }
    const specArgs = command.args ?? [];
    const required = specArgs.filter((a) => a.required).length;
    if (parsed.positionals.length < required) {
      throw new UsageError(
        `missing ${specArgs
          .slice(parsed.positionals.length, required)
          .map((a) => `<${a.name}>`)
          .join(" ")}`,
        `run \`${path.join(" ")} --help\``,
      );
    }
    if (parsed.positionals.length > specArgs.length && !specArgs.at(-1)?.variadic) {
      throw new UsageError(
        `unexpected argument "${parsed.positionals[specArgs.length]}"`,
        `run \`${path.join(" ")} --help\``,
      );
    }
    specArgs.forEach((a, i) => {
      const value = parsed.positionals[i];
      if (value !== undefined && a.choices && !a.choices.includes(value)) {
        throw new UsageError(`${a.name} must be one of ${a.choices.join(", ")}, got "${value}"`);
      }
    });
    for (const [name, o] of Object.entries(options)) {
      const value = values[name];
      if (typeof value === "string" && o.choices && !o.choices.includes(value)) {
        throw new UsageError(`--${name} must be one of ${o.choices.join(", ")}, got "${value}"`);
      }
    }
    let paths: ReturnType<typeof pathsFor> | undefined;
    const ctx: CommandContext = {
      args: parsed.positionals,
      options: values,
      json: values.json === true,
      io,
      env,
      cwd,
      paths: () => {
        paths ??= pathsFor(env);
        return paths;
      },
      daemon: (fn, opts) =>
        withDaemon({ paths: ctx.paths(), env, autoStart: opts?.autoStart ?? true }, fn),
    };
    return await (command.run as NonNullable<CommandSpec["run"]>)(ctx);
  } catch (err) {
    const known = toCliError(err);
    if (!known) {
      const text = (err as Error)?.stack ?? String(err);
      io.stderr.write(`wm: unexpected error: ${displaySafe(text, { multiline: true })}\n`);
      return ExitCode.Failure;
    }
    printError(io, known);
    return known instanceof RpcError ? exitCodeForRpc(known.code) : known.exitCode;
  }
}
