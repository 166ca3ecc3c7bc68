import path from "node:path";
import { BUILD_PROGRESS_NOTIFICATION } from "@wm/protocol/streams";
import { displaySafe } from "@wm/protocol/text";
import { WsRpc } from "../client/ws-rpc.ts";
import { showConfigWarnings } from "../config-warnings.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { defineCommand } from "./spec.ts";

export const sandboxBuildCommand = defineCommand({
  name: "build",
  summary: "Build the sandbox image for an agent (progress shown live)",
  description:
    "Builds wm-sandbox:<agent> on top of the offline base image wm-base:bookworm (make it with --with-base as root, or `sudo bash scripts/build-base-image.sh`). Agents: claude (default from config), demo, none.",
  json: true,
  options: {
    agent: {
      type: "string",
      valueName: "NAME",
      description: "agent layer to build (default: the configured agent)",
    },
    "with-base": {
      type: "boolean",
      description:
        "first build the offline Debian base (debootstrap + import, needs root) if it is missing",
    },
    runtime: {
      type: "string",
      valueName: "NAME",
      description: "docker or podman (default: from config)",
      choices: ["docker", "podman"],
    },
  },
  run: async (ctx) => {
    await ctx.daemon((c) => c.call("daemon.status", {}));
    await showConfigWarnings(ctx);
    const lines: string[] = [];
    const rpc = await WsRpc.open(ctx.paths().socketPath, {
      onNotification(method, params) {
        if (method !== BUILD_PROGRESS_NOTIFICATION) return;
        const line = String(params.line ?? "");
        lines.push(line);
        if (!ctx.json) ctx.io.stderr.write(`${displaySafe(line)}\n`);
      },
      onBinary() {},
      onClose() {},
    });
    try {
      const res = await rpc.call("sandbox.build", {
        ...(typeof ctx.options.agent === "string" ? { agent: ctx.options.agent } : {}),
        ...(ctx.options.runtime === "docker" || ctx.options.runtime === "podman"
          ? { runtime: ctx.options.runtime }
          : {}),
        cwd: ctx.cwd,
        withBase: ctx.options["with-base"] === true,
      });
      report(
        ctx,
        { ...res, log: lines },
        (r) => `built ${r.image} with ${r.runtime} in ${r.seconds.toFixed(1)} s`,
      );
    } finally {
      rpc.close();
    }
    return ExitCode.Ok;
  },
});

export const sandboxInitDockerfileCommand = defineCommand({
  name: "init-dockerfile",
  summary: "Write a Dockerfile to customise the sandbox image",
  description: "Build it with docker build -t NAME . and set sandbox.image: NAME in your config.",
  json: true,
  options: {
    dir: {
      type: "string",
      valueName: "DIR",
      description: "where to write it (default: the current directory)",
    },
    agent: { type: "string", valueName: "NAME", description: "agent image to start from" },
    force: { type: "boolean", description: "overwrite an existing Dockerfile" },
  },
  run: async (ctx) => {
    const dir = path.resolve(ctx.cwd, typeof ctx.options.dir === "string" ? ctx.options.dir : ".");
    const res = await ctx.daemon((c) =>
      c.call("sandbox.initDockerfile", {
        dir,
        force: ctx.options.force === true,
        ...(typeof ctx.options.agent === "string" ? { agent: ctx.options.agent } : {}),
      }),
    );
    report(ctx, res, (r) => `wrote ${r.file}`);
    return ExitCode.Ok;
  },
});
