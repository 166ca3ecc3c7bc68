import { bashCompletion, fishCompletion, zshCompletion } from "../completions.ts";
import { ExitCode } from "../exit-codes.ts";
import { defineCommand } from "./spec.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

export const completionsCommand = defineCommand({
  name: "completions",
  summary: "Print a shell completion script",
  description:
    "bash: source <(wm completions bash)   zsh: source <(wm completions zsh)   fish: wm completions fish | source",
  args: [
    { name: "shell", description: "the shell to complete for", required: true, choices: SHELLS },
  ],
  run: async (ctx) => {
    const { rootCommand } = await import("./root.ts");
    const shell = ctx.args[0] as (typeof SHELLS)[number];
    const script = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion }[shell](
      rootCommand,
    );
    ctx.io.stdout.write(script);
    return ExitCode.Ok;
  },
});
