import os from "node:os";
import { daemonEntry } from "../client/spawn-daemon.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import {
  installService,
  runCommand,
  type ServiceResult,
  templateDirFor,
  uninstallService,
} from "../service/index.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

function render(verb: "install" | "uninstall", dryRun: boolean) {
  return (r: ServiceResult) =>
    [
      dryRun ? `would ${verb} (dry run, nothing changed):` : `${verb}ed:`,
      ...r.files.map((f) => `  file  ${f}`),
      ...r.commands.map((c) => `  run   ${c.join(" ")}`),
      ...r.warnings.map((w) => `warning: ${w}`),
    ].join("\n");
}

function baseOptions(ctx: CommandContext) {
  return {
    platform: process.platform,
    homedir: os.homedir(),
    env: ctx.env,
    uid: process.getuid?.() ?? 0,
    run: runCommand,
    dryRun: ctx.options["dry-run"] === true,
  };
}

async function guarded(fn: () => Promise<ServiceResult>): Promise<ServiceResult> {
  try {
    return await fn();
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.Failure, (err as { hint?: string }).hint);
  }
}

export const installServiceCommand = defineCommand({
  name: "install-service",
  summary: "Install and enable the daemon as a systemd user service (Linux) or LaunchAgent (macOS)",
  description:
    "Linux: writes wm.socket and wm.service to ~/.config/systemd/user and enables socket activation (--no-socket: start at login instead). macOS: writes ~/Library/LaunchAgents/dev.wm.daemon.plist. Stop a daemon started on demand first: wm daemon stop.",
  json: true,
  options: {
    "no-socket": {
      type: "boolean",
      description: "systemd: start at login instead of on first connection",
    },
    "dry-run": { type: "boolean", description: "print the files and commands, change nothing" },
  },
  run: async (ctx) => {
    const entry = daemonEntry(ctx.env);
    const result = await guarded(() =>
      installService({
        ...baseOptions(ctx),
        nodePath: process.execPath,
        daemonEntry: entry,
        templateDir: templateDirFor(entry),
        socketActivation: ctx.options["no-socket"] !== true,
      }),
    );
    report(ctx, result, render("install", ctx.options["dry-run"] === true));
    return ExitCode.Ok;
  },
});

export const uninstallServiceCommand = defineCommand({
  name: "uninstall-service",
  summary: "Disable and remove the daemon's systemd user service or LaunchAgent",
  json: true,
  options: {
    "dry-run": { type: "boolean", description: "print the files and commands, change nothing" },
  },
  run: async (ctx) => {
    const result = await guarded(() => uninstallService(baseOptions(ctx)));
    report(ctx, result, render("uninstall", ctx.options["dry-run"] === true));
    return ExitCode.Ok;
  },
});
