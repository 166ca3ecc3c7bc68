import { parseArgs } from "node:util";
import { RpcError } from "@wm/protocol/errors";
import { WM_VERSION } from "@wm/protocol/version";
import { readEndpoint } from "./endpoint.ts";
import { guestCall } from "./guest-client.ts";
import type { ExecIo } from "./host-exec.ts";

export interface ShimIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Present when the shim runs as a program (a host command needs the caller's stdin). */
  stdin?: NodeJS.ReadStream;
}

/** Commands that exist on the host but never inside a sandbox. */
export const HOST_ONLY = new Set([
  "daemon",
  "config",
  "doctor",
  "sandbox",
  "completions",
  "list",
  "open",
  "close",
  "rm",
  "dashboard",
  "wait",
  "setup",
]);

const HELP = `wm (inside a sandbox) ${WM_VERSION}

Usage:
  wm status set working|waiting|done|clear   report the agent's status to the host
  wm status [--json]                        show the status recorded for this sandbox
  wm notify MESSAGE                         show MESSAGE to the user on the host
  wm host-exec NAME [ARGS...]               run NAME on the host, if the user's global config
                                            lists it in sandbox.host_commands (each listed name
                                            is also on PATH here and does the same); stdin,
                                            stdout, stderr, terminal, signals and exit code
                                            behave as if it ran here
  wm add BRANCH [-p PROMPT] [--base REF]    start another sandboxed agent in a new worktree
  wm merge [NAME] [--into BRANCH] [--rebase|--squash] [--ignore-uncommitted]
                                            merge this sandbox's own worktree (only that one);
                                            --ignore-uncommitted merges the commits and leaves
                                            uncommitted changes in the worktree

Everything else is a host command and is refused here.
Exit codes: 0 ok, 1 failed, 2 usage, 3 daemon unreachable, 6 refused.
wm host-exec exits with the host command's code (128+N after signal N), 127 when the name is
not allowed or not on the host, 126 when it may not run (cwd outside the worktree, refused
environment, no bubblewrap), 255 when the connection to the daemon broke.
`;

const MERGE_USAGE = "wm merge [NAME] [--into BRANCH] [--rebase|--squash] [--ignore-uncommitted]";

const STATUSES = ["working", "waiting", "done", "clear"] as const;

export async function runShim(
  argv: readonly string[],
  io: ShimIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    io.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "--version" || cmd === "-V") {
    io.stdout.write(`wm ${WM_VERSION} (sandbox shim)\n`);
    return 0;
  }
  // The guest agent of a VM sandbox (started by the VM's init, not by users).
  if (cmd === "agent") return (await import("./agent/agent.ts")).runAgent(rest, io, env);
  // The network side of a sandbox under network.policy: deny (started by the daemon).
  if (cmd === "relay") return (await import("./relay.ts")).runRelay(rest, io);
  if (HOST_ONLY.has(cmd)) {
    io.stderr.write(`wm: \`wm ${cmd}\` is a host command; it cannot run inside a sandbox\n`);
    return 6;
  }
  const endpoint = () => readEndpoint(env.WM_GUEST_DIR || undefined);
  if (cmd === "host-exec") {
    const argv = rest[0] === "--" ? rest.slice(1) : rest;
    if (argv.length === 0 || !io.stdin) {
      io.stderr.write("wm: usage: wm host-exec NAME [ARGS...]\n");
      return 2;
    }
    try {
      // The WebSocket client (and the Node modules under it) loads for this command only.
      const { hostExec } = await import("./host-exec.ts");
      return await hostExec(endpoint(), argv, io as ExecIo, env);
    } catch (err) {
      io.stderr.write(`wm: ${(err as Error).message}\n`);
      return 255;
    }
  }
  try {
    if (cmd === "status") {
      if (rest[0] === "set") {
        const value = rest[1];
        if (!value || !(STATUSES as readonly string[]).includes(value) || rest.length > 2) {
          io.stderr.write(`wm: usage: wm status set ${STATUSES.join("|")}\n`);
          return 2;
        }
        await guestCall(endpoint(), "status.set", { status: value as (typeof STATUSES)[number] });
        return 0;
      }
      if (rest.length === 0 || (rest.length === 1 && rest[0] === "--json")) {
        const s = await guestCall(endpoint(), "status.get", {});
        io.stdout.write(
          rest[0] === "--json" ? `${JSON.stringify(s)}\n` : `${s.status ?? "none"}\n`,
        );
        return 0;
      }
      io.stderr.write("wm: usage: wm status [--json] | wm status set working|waiting|done|clear\n");
      return 2;
    }
    if (cmd === "add") {
      const { positionals, values } = parseArgs({
        args: rest,
        options: { prompt: { type: "string", short: "p" }, base: { type: "string" } },
        allowPositionals: true,
      });
      if (positionals.length !== 1) {
        io.stderr.write("wm: usage: wm add BRANCH [-p PROMPT] [--base REF]\n");
        return 2;
      }
      const res = await guestCall(endpoint(), "agent.spawn", {
        branch: positionals[0] as string,
        ...(values.prompt ? { prompt: values.prompt } : {}),
        ...(values.base ? { base: values.base } : {}),
      });
      io.stdout.write(`started ${res.handle} in ${res.path}\n`);
      return 0;
    }
    if (cmd === "merge") {
      const { positionals, values } = parseArgs({
        args: rest,
        options: {
          into: { type: "string" },
          rebase: { type: "boolean" },
          squash: { type: "boolean" },
          "ignore-uncommitted": { type: "boolean" },
          "no-verify": { type: "boolean", short: "n" },
        },
        allowPositionals: true,
      });
      if (values["no-verify"]) {
        io.stderr.write(
          "wm: --no-verify is a host option: the pre_merge hooks are the host's check on a sandbox's merge; run `wm merge --no-verify` on the host to skip them\n",
        );
        return 6;
      }
      if (positionals.length > 1 || (values.rebase && values.squash)) {
        io.stderr.write(`wm: usage: ${MERGE_USAGE}\n`);
        return 2;
      }
      const strategy = values.rebase ? "rebase" : values.squash ? "squash" : undefined;
      const res = await guestCall(endpoint(), "agent.merge", {
        ...(positionals[0] ? { name: positionals[0] } : {}),
        ...(values.into ? { into: values.into } : {}),
        ...(strategy ? { strategy } : {}),
        ...(values["ignore-uncommitted"] ? { ignoreUncommitted: true } : {}),
      });
      io.stdout.write(`merged ${res.branch} into ${res.target} (${res.commit.slice(0, 12)})\n`);
      return 0;
    }
    if (cmd === "notify") {
      const message = rest.join(" ").trim();
      if (!message) {
        io.stderr.write("wm: usage: wm notify MESSAGE\n");
        return 2;
      }
      await guestCall(endpoint(), "agent.notify", { message });
      return 0;
    }
  } catch (err) {
    io.stderr.write(`wm: ${(err as Error).message}\n`);
    if (String((err as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS")) return 2;
    if (err instanceof RpcError) return err.is("Refused") || err.is("Unauthorized") ? 6 : 1;
    return 3;
  }
  io.stderr.write(`wm: unknown command "${cmd}"; run \`wm --help\`\n`);
  return 2;
}
