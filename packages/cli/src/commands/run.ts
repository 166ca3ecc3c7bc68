import { unsafeTextProblem } from "@wm/protocol/text";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const runCommand = defineCommand({
  name: "run",
  summary: "Run a command in a new pane of a worktree's window",
  description: [
    "Splits the worktree's window and runs CMD with its ARGS (each quoted for the shell) in the",
    "new pane, whose shell stays when the command ends. When the worktree's agent is sandboxed,",
    "the command runs in its sandbox (wm sandbox run --worktree PATH -- …), never on the host;",
    "otherwise on the host. Prints which. The window must be open (wm open NAME).",
  ].join("\n"),
  json: true,
  args: [
    { name: "name", description: "worktree name, branch or path", required: true },
    { name: "command", description: "the command and its arguments, after --", variadic: true },
  ],
  run: async (ctx) => {
    const [name, ...command] = ctx.args as [string, ...string[]];
    if (command.length === 0)
      throw new UsageError("no command given", "wm run NAME -- CMD [ARGS...]");
    for (const arg of command) {
      const problem = unsafeTextProblem(arg);
      if (problem) throw new UsageError(`CMD cannot be typed into a pane: ${problem}`);
    }
    const res = await ctx
      .daemon((c) => c.call("worktree.run", { cwd: ctx.cwd, name, command }))
      .catch(explain);
    report(
      ctx,
      res,
      (r) =>
        `running in ${r.handle} (pane ${r.pane}) ${r.sandboxed ? "in its sandbox" : "on the host"}: ${command.join(" ")}`,
    );
    return ExitCode.Ok;
  },
});
