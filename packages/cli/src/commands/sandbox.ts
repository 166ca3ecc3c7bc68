import path from "node:path";
import type { SandboxSummary, VmSummary } from "@wm/protocol";
import type { runTerminal } from "../client/terminal-client.ts";
import { showConfigWarnings } from "../config-warnings.ts";
import { netCell } from "../egress-text.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { columns, formatDuration, report } from "../output.ts";
import { sandboxBuildCommand, sandboxInitDockerfileCommand } from "./sandbox-image.ts";
import { sandboxLogsCommand } from "./sandbox-logs.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

function worktreeOf(ctx: CommandContext): string {
  return path.resolve(
    ctx.cwd,
    typeof ctx.options.worktree === "string" ? ctx.options.worktree : ".",
  );
}

async function terminal(ctx: CommandContext, target: Parameters<typeof runTerminal>[0]["target"]) {
  if ("run" in target) {
    await showConfigWarnings(ctx, { cwd: target.run.worktree, startsAgent: true });
  }
  const { runTerminal } = await import("../client/terminal-client.ts");
  return runTerminal({
    paths: ctx.paths(),
    env: ctx.env,
    io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    target,
  });
}

function runTarget(ctx: CommandContext, command: string[]) {
  const agent = typeof ctx.options.agent === "string" ? ctx.options.agent : undefined;
  return {
    run: {
      worktree: worktreeOf(ctx),
      ...(agent ? { agent } : {}),
      command,
      tty: false,
      interactive: true,
      env: Object.fromEntries(
        Object.entries(ctx.env).filter((e): e is [string, string] => e[1] !== undefined),
      ),
    },
  };
}

const worktreeOption = {
  worktree: {
    type: "string",
    valueName: "PATH",
    description: "the worktree to sandbox (default: the current directory)",
  },
  agent: {
    type: "string",
    valueName: "NAME",
    description: "use this agent's image, wm-sandbox:NAME (default: the configured agent)",
  },
} as const;

const run = defineCommand({
  name: "run",
  summary: "Run a command in a new sandbox for a worktree, attached to this terminal",
  description:
    "Usage: wm sandbox run [--worktree PATH] [--agent NAME] -- CMD [ARGS...]\nThe sandbox holds the worktree, the git data it needs and the agent's own credentials, and is removed when CMD ends. A sandbox setting wm cannot honour (sandbox.lima.driver: limactl, an OCI runtime the engine lacks, network.policy: deny with a VM or with rpc_transport: tcp, …) or an unknown key under sandbox: is refused before anything starts, naming the key and its file (exit 5). Under network.policy: deny the sandbox reaches only sandbox.network.allowed_domains, through wm's proxy (docs/network.md). On a terminal it runs with a TTY (raw mode, resize, Ctrl-C reaches CMD); otherwise stdout, stderr and the exit code pass through. If the daemon restarts, this client re-attaches. When CMD ends by itself, the daemon prepares the same sandbox for the worktree's next run (started, waiting at a gate; docker ps shows it with wm.prepared=1): the next run asking exactly the same takes it, anything else gets a new one (WM_SANDBOX_PREPARE=0 in the daemon's environment turns this off; docs/sandbox.md).",
  options: worktreeOption,
  args: [
    { name: "command", description: "the command and its arguments, after --", variadic: true },
  ],
  run: async (ctx) => {
    if (ctx.args.length === 0)
      throw new UsageError(
        "no command given",
        "usage: wm sandbox run [--worktree PATH] -- CMD [ARGS...]",
      );
    return terminal(ctx, runTarget(ctx, ctx.args));
  },
});

const shell = defineCommand({
  name: "shell",
  summary: "Open a shell (or run CMD) in a new sandbox for a worktree",
  options: worktreeOption,
  args: [{ name: "command", description: "what to run instead of bash, after --", variadic: true }],
  run: async (ctx) =>
    terminal(ctx, runTarget(ctx, ctx.args.length > 0 ? ctx.args : ["bash", "-l"])),
});

const auth = defineCommand({
  name: "auth",
  summary: "Log the agent in inside a sandbox, so its credentials land in the sandbox's own files",
  description:
    "Runs the agent (claude) in a sandbox for the worktree; log in there (/login). The credentials are written to ~/.claude-sandbox.json and ~/.claude-sandbox/, never to your own ~/.claude.",
  options: worktreeOption,
  run: async (ctx) => terminal(ctx, runTarget(ctx, ["claude"])),
});

const attach = defineCommand({
  name: "attach",
  summary: "Attach this terminal to a running sandbox",
  args: [{ name: "name", description: "sandbox name or id", required: true }],
  run: async (ctx) => terminal(ctx, { attach: ctx.args[0] as string }),
});

function renderList(sandboxes: SandboxSummary[]): string {
  if (sandboxes.length === 0) return "no sandboxes";
  const rows = sandboxes.map((s) => [
    s.name,
    s.state === "exited" ? `exited (${s.exitCode})` : s.state,
    s.agentStatus ?? "-",
    s.runtime,
    netCell(s),
    formatDuration(Date.now() - Date.parse(s.createdAt)),
    s.worktree,
  ]);
  return columns(["NAME", "STATE", "AGENT", "RUNTIME", "NET", "AGE", "WORKTREE"], rows);
}

function renderVms(vms: VmSummary[]): string {
  const rows = vms.map((v) => [
    v.name,
    v.state,
    String(v.sessions),
    `${v.cpus} cpu, ${v.memoryMiB} MiB`,
    formatBytes(v.diskBytes),
    v.uptimeSeconds === null ? "-" : formatDuration(v.uptimeSeconds * 1000),
    v.scope,
  ]);
  return columns(["VM", "STATE", "SANDBOXES", "SIZE", "DISK", "UP", "SERVES"], rows);
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  return `${Math.round(n / (1 << 20))} MiB`;
}

const list = defineCommand({
  name: "list",
  summary: "List the sandboxes the daemon owns, and its VMs (sandbox.backend: lima)",
  description:
    "NET is the sandbox's network: open (the engine's network, unfiltered), none (a session in a VM, which has no network), or deny (sandbox.network.policy: deny) with how many connections it refused and unlisted names it was asked to look up so far, e.g. deny (3 denied); `wm sandbox logs NAME --net` shows each. --json gives them as egress: {allowed, denied}, null when the network is not filtered.",
  json: true,
  run: async (ctx) => {
    const res = await ctx.daemon(async (c) => ({
      ...(await c.call("sandbox.list", {})),
      ...(await c.call("sandbox.vms", {})),
    }));
    report(ctx, res, (r) =>
      r.vms.length > 0
        ? `${renderList(r.sandboxes)}\n\n${renderVms(r.vms)}`
        : renderList(r.sandboxes),
    );
    return ExitCode.Ok;
  },
});

const stop = defineCommand({
  name: "stop",
  summary: "Stop and remove sandboxes by name, or all with --all; VMs with --vm",
  json: true,
  options: {
    all: { type: "boolean", description: "stop every sandbox" },
    vm: {
      type: "boolean",
      description: "the names are VMs (wm sandbox list): stop them and the sandboxes in them",
    },
    rm: { type: "boolean", description: "with --vm: delete the VMs' disks too" },
  },
  args: [
    {
      name: "name",
      description: "sandbox name or id, or VM name (several allowed)",
      variadic: true,
    },
  ],
  run: async (ctx) => {
    if (ctx.options.vm === true) {
      if (ctx.args.length === 0) throw new UsageError("name a VM (see wm sandbox list)");
      const res = await ctx.daemon((c) =>
        c.call("sandbox.vmStop", { names: ctx.args, remove: ctx.options.rm === true }),
      );
      report(
        ctx,
        res,
        (r) =>
          [
            ...r.stopped.map((n) => `stopped VM ${n}`),
            ...r.removed.map((n) => `removed VM ${n} and its disk`),
            ...r.notFound.map((n) => `no VM named ${n}`),
          ].join("\n") || "nothing to do",
      );
      return res.notFound.length > 0 ? ExitCode.Failure : ExitCode.Ok;
    }
    if (ctx.options.rm === true) throw new UsageError("--rm goes with --vm");
    const all = ctx.options.all === true;
    if (!all && ctx.args.length === 0) throw new UsageError("name a sandbox or pass --all");
    const res = await ctx.daemon((c) => c.call("sandbox.stop", { names: ctx.args, all }));
    report(ctx, res, (r) =>
      [
        ...r.stopped.map((n) => `stopped ${n}`),
        ...r.notFound.map((n) => `no sandbox named ${n}`),
        ...(r.stopped.length + r.notFound.length === 0 ? ["no sandboxes"] : []),
      ].join("\n"),
    );
    return res.notFound.length > 0 ? ExitCode.Failure : ExitCode.Ok;
  },
});

const prune = defineCommand({
  name: "prune",
  summary:
    "Remove records of exited sandboxes, containers no record explains, and stopped VMs with their disks",
  json: true,
  run: async (ctx) => {
    const res = await ctx.daemon((c) => c.call("sandbox.prune", {}));
    report(
      ctx,
      res,
      (r) =>
        `removed ${r.removedRecords.length} records, ${r.removedContainers.length} containers, ${r.removedVms.length} stopped VMs${r.removedVms.length > 0 ? ` (${r.removedVms.join(", ")})` : ""}`,
    );
    return ExitCode.Ok;
  },
});

export const sandboxCommand = defineCommand({
  name: "sandbox",
  summary: "Run, list and stop sandboxes; build their image",
  subcommands: [
    run,
    shell,
    attach,
    list,
    stop,
    prune,
    sandboxLogsCommand,
    auth,
    sandboxBuildCommand,
    sandboxInitDockerfileCommand,
  ],
});
