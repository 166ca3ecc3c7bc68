import { runCommand } from "../../packages/testing/src/index.ts";
import { type Summary, summarize } from "./stats.ts";

/** Runs a command to its end and returns its stdout (stderr passes through); non-zero is an error. */
export async function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const res = await runCommand(cmd, args, { env, stderr: "inherit" });
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${res.code}`);
  return res.stdout;
}

/** Times measured inside a container, one per line, in nanoseconds. */
export function fromNanos(lines: string): Summary {
  return summarize(
    lines
      .trim()
      .split("\n")
      .map((l) => Number(l) / 1e6),
  );
}

/**
 * A shell loop that runs `cmd` `n` times and prints each run's time in nanoseconds (measured
 * where it runs, so `docker exec`'s own start is not counted); `strict` stops at a failure.
 */
export function timingLoop(n: number, cmd: string, strict = false): string {
  const fail = strict ? " || exit 1" : "";
  return `i=0; while [ $i -lt ${n} ]; do s=$(date +%s%N); ${cmd} >/dev/null${fail}; e=$(date +%s%N); echo $((e - s)); i=$((i + 1)); done`;
}
