import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { defineCommand, loadCommandTree } from "./spec.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

/** The names `wm open/rm/merge/…` take for the worktrees here; none when no daemon runs. */
async function worktreeNames(ctx: Parameters<NonNullable<typeof completionsCommand.run>>[0]) {
  const res = await ctx
    .daemon((c) => c.call("worktree.list", { cwd: ctx.cwd, all: false }), { autoStart: false })
    .catch(() => undefined);
  const names = new Set<string>();
  for (const w of res?.worktrees ?? []) {
    names.add(w.handle);
    names.add(w.branch);
  }
  return [...names].filter((n) => n && !/\s/.test(n));
}

export const completionsCommand = defineCommand({
  name: "completions",
  summary: "Print a shell completion script",
  description: [
    "bash (~/.bashrc):  source <(wm completions bash)",
    "zsh (~/.zshrc, after compinit):  source <(wm completions zsh)",
    "fish:  wm completions fish > ~/.config/fish/completions/wm.fish",
    "The scripts complete commands, options, agent names and the worktree names of the",
    "repository you are in (asked of a running daemon with --worktrees; none is started).",
  ].join("\n"),
  args: [{ name: "shell", description: "the shell to complete for", choices: SHELLS }],
  options: {
    worktrees: {
      type: "boolean",
      description:
        "print the worktree names of this repository, one a line (for the scripts); prints nothing when no daemon runs",
    },
  },
  run: async (ctx) => {
    if (ctx.options.worktrees) {
      const names = await worktreeNames(ctx);
      ctx.io.stdout.write(names.map((n) => `${n}\n`).join(""));
      return ExitCode.Ok;
    }
    const shell = ctx.args[0] as (typeof SHELLS)[number] | undefined;
    if (!shell) throw new UsageError("missing <shell>", "run `wm completions bash|zsh|fish`");
    const [{ rootCommand }, { bashCompletion, fishCompletion, zshCompletion }] = await Promise.all([
      import("./root.ts"),
      import("../completions.ts"),
    ]);
    const script = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion }[shell](
      await loadCommandTree(rootCommand),
    );
    ctx.io.stdout.write(script);
    return ExitCode.Ok;
  },
});
