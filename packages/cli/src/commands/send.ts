import { unsafeTextProblem } from "@wm/protocol/text";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

const NAME_ARG = { name: "name", description: "worktree name, branch or path", required: true };

export const sendCommand = defineCommand({
  name: "send",
  summary: "Type text into a worktree's agent pane, then Enter",
  description: [
    "The words of TEXT are joined with spaces and typed literally (tmux send-keys -l) into the",
    "pane that runs the agent, followed by Enter. Text with a control character (escape, newline,",
    "tab…) or a bidirectional formatting character is refused: it would be obeyed, not typed.",
  ].join("\n"),
  json: true,
  args: [NAME_ARG, { name: "text", description: "what to type", required: true, variadic: true }],
  run: async (ctx) => {
    const [name, ...words] = ctx.args as [string, ...string[]];
    const text = words.join(" ");
    const problem = unsafeTextProblem(text);
    if (problem) throw new UsageError(`TEXT cannot be typed into ${name}: ${problem}`);
    const res = await ctx
      .daemon((c) => c.call("worktree.send", { cwd: ctx.cwd, name, text }))
      .catch(explain);
    report(ctx, res, (r) => `sent to ${r.handle} (pane ${r.pane})`);
    return ExitCode.Ok;
  },
});

export const captureCommand = defineCommand({
  name: "capture",
  summary: "Print what a worktree's agent pane shows",
  description: [
    "Prints the visible screen of the pane that runs the agent (tmux capture-pane -p), or its",
    "last LINES lines with -n (scrollback included). What an agent prints can hold escape",
    "sequences a terminal would obey (clipboard writes, title changes); they are shown escaped",
    "(\\x1b…) unless --raw.",
  ].join("\n"),
  json: true,
  args: [NAME_ARG],
  options: {
    lines: {
      type: "string",
      short: "n",
      valueName: "LINES",
      description: "the last LINES lines, scrollback included",
    },
    raw: {
      type: "boolean",
      description: "print the pane's text as it is, escape sequences included",
    },
  },
  run: async (ctx) => {
    const name = ctx.args[0] as string;
    const n = ctx.options.lines;
    const lines = typeof n === "string" ? Number(n) : undefined;
    if (lines !== undefined && !(Number.isInteger(lines) && lines >= 1 && lines <= 100_000)) {
      throw new UsageError(`-n/--lines must be a whole number from 1 to 100000, got "${n}"`);
    }
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.capture", {
          cwd: ctx.cwd,
          name,
          ...(lines !== undefined ? { lines } : {}),
        }),
      )
      .catch(explain);
    if (ctx.options.raw === true && !ctx.json) {
      ctx.io.stdout.write(res.text.endsWith("\n") ? res.text : `${res.text}\n`);
    } else {
      report(ctx, res, (r) => r.text);
    }
    return ExitCode.Ok;
  },
});
