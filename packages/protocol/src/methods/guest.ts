import { z } from "zod";
import { defineMethod } from "../method.ts";

export const agentStatus = z.enum(["working", "waiting", "done"]);
export type AgentStatus = z.infer<typeof agentStatus>;

export const statusSet = defineMethod({
  summary: "Set (or clear) the agent status shown for this sandbox's worktree.",
  surfaces: ["guest"],
  params: z.strictObject({ status: z.union([agentStatus, z.literal("clear")]) }),
  result: z.object({ status: agentStatus.nullable() }),
});

export const statusGet = defineMethod({
  summary: "The agent status currently recorded for this sandbox's worktree.",
  surfaces: ["guest"],
  params: z.strictObject({}),
  result: z.object({ status: agentStatus.nullable(), worktree: z.string(), sandbox: z.string() }),
});

export const notify = defineMethod({
  summary: "Show a notification from the agent to the user.",
  surfaces: ["guest"],
  params: z.strictObject({ message: z.string().min(1).max(2000) }),
  result: z.object({ delivered: z.boolean() }),
});
