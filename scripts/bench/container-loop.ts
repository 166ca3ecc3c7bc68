import { spawn } from "node:child_process";
import { type Summary, summarize } from "./stats.ts";

/** Run a command to its end and return its stdout; a non-zero exit is an error. */
export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`)),
    );
  });
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
