// `pnpm bench`'s arguments: which suites to run, and how long.
import type { BenchSuite } from "./types.ts";

export interface BenchArgs {
  quick: boolean;
  suites: BenchSuite[];
}

/**
 * `--quick`, `--suite=NAME` (one suite, opt-in ones included) and `--peers` (adds the opt-in
 * suites). Without `--suite=` every default suite runs; an opt-in suite never runs unasked.
 * A wrong argument is an error that names it and what is accepted.
 */
export function parseBenchArgs(
  args: readonly string[],
  suites: readonly BenchSuite[],
  optIn: readonly BenchSuite[],
): BenchArgs {
  const all = [...suites, ...optIn];
  const usage = `options: --quick, --peers, --suite=NAME (NAME: ${all.map((s) => s.name).join(", ")})`;
  const unknown = args.find(
    (a) => !["--quick", "--peers"].includes(a) && !a.startsWith("--suite="),
  );
  if (unknown !== undefined)
    throw new Error(`unknown argument ${JSON.stringify(unknown)}; ${usage}`);
  const only = args.findLast((a) => a.startsWith("--suite="))?.slice("--suite=".length);
  const picked = only === undefined ? [...suites] : all.filter((s) => s.name === only);
  if (picked.length === 0) throw new Error(`no suite named ${JSON.stringify(only)}; ${usage}`);
  const extra = args.includes("--peers") ? optIn.filter((s) => !picked.includes(s)) : [];
  return { quick: args.includes("--quick"), suites: [...picked, ...extra] };
}
