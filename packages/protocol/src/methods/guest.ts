import { z } from "zod";
import { defineMethod } from "../method.ts";
import { unsafeTextProblem } from "../text.ts";

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

/**
 * A branch or worktree name from a sandbox: it is shown on the user's terminal, in tmux window
 * names and in the dashboard, so control and bidi formatting characters are refused outright.
 */
const branchName = z
  .string()
  .min(1)
  .max(255)
  .superRefine((name, ctx) => {
    const problem = unsafeTextProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: `not a usable name: ${problem}` });
  });

export const agentSpawn = defineMethod({
  summary:
    "Start another agent: a new worktree from this repository with its own sandboxed window. Only options that cannot widen anything are accepted.",
  surfaces: ["guest"],
  params: z.strictObject({
    branch: branchName,
    base: branchName.optional(),
    prompt: z.string().min(1).max(200_000).optional(),
  }),
  result: z.object({ handle: z.string(), branch: z.string(), path: z.string() }),
});

export const agentMerge = defineMethod({
  summary:
    "Merge this sandbox's own worktree into its target branch in the main worktree (no repository hooks run). Any other worktree is refused.",
  surfaces: ["guest"],
  params: z.strictObject({
    /** Must name this sandbox's own worktree when given. */
    name: branchName.optional(),
    into: branchName.optional(),
    strategy: z.enum(["merge", "rebase", "squash"]).optional(),
    /** Merge the commits although the worktree has uncommitted changes (they stay there). */
    ignoreUncommitted: z.boolean().optional(),
  }),
  result: z.object({ branch: z.string(), target: z.string(), commit: z.string() }),
});
