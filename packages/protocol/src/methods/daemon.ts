import { z } from "zod";
import { defineMethod } from "../method.ts";

export const daemonStatus = defineMethod({
  summary: "Version, pid, uptime, socket and live sandboxes of the running daemon.",
  surfaces: ["host"],
  params: z.strictObject({}),
  result: z.object({
    version: z.string(),
    protocolVersion: z.number().int(),
    pid: z.number().int(),
    startedAt: z.string(),
    uptimeMs: z.number(),
    socketPath: z.string(),
    logFile: z.string(),
    liveSandboxes: z.number().int().nonnegative(),
    idleTimeoutMs: z.number().int().nonnegative(),
    socketActivated: z.boolean(),
  }),
});

export const daemonShutdown = defineMethod({
  summary: "Finish in-flight calls, close every connection and exit.",
  surfaces: ["host"],
  params: z.strictObject({}),
  result: z.object({ pid: z.number().int(), stopping: z.literal(true) }),
});
