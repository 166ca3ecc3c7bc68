// `pnpm bench`: every benchmark, each beside a baseline measured in the same run; `--peers` adds
// other tools measured against wm. Prints one table and writes bench/results/<time>.json and
// bench/results/latest.json.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempHome } from "../../packages/testing/src/index.ts";
import { type BenchArgs, parseBenchArgs } from "./args.ts";
import { daemonSuite } from "./suites/daemon.ts";
import { egressSuite } from "./suites/egress.ts";
import { hostExecSuite } from "./suites/host-exec.ts";
import { peersSuite } from "./suites/peers.ts";
import { resilienceSuite } from "./suites/resilience.ts";
import { sandboxSuite } from "./suites/sandbox.ts";
import { scaleSuite } from "./suites/scale.ts";
import { vmSuite } from "./suites/vm.ts";
import { formatTable } from "./table.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const suites: BenchSuite[] = [
  daemonSuite,
  sandboxSuite,
  resilienceSuite,
  scaleSuite,
  hostExecSuite,
  egressSuite,
  vmSuite,
];
/** Run only when asked for: by `--peers`, or by name with `--suite=NAME`. */
const optIn: BenchSuite[] = [peersSuite];
let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2), suites, optIn);
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(2);
}
const { quick } = args;

const rows: BenchRow[] = [];
for (const suite of args.suites) {
  process.stderr.write(`bench: ${suite.name}${quick ? " (quick)" : ""}\n`);
  const home = await makeTempHome({ WM_LOG_LEVEL: "warn", WM_DAEMON_IDLE_TIMEOUT: "60" });
  try {
    rows.push(...(await suite.run({ home, quick })));
  } finally {
    await home.cleanup();
  }
}
// One line per row, fitted to the terminal (120 columns when not a terminal).
const width = Math.max(80, process.stdout.columns || Number(process.env.COLUMNS) || 120);
process.stdout.write(formatTable(rows, width));
const result = {
  time: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  },
  quick,
  rows,
};
const dir = path.join(root, "bench/results");
await mkdir(dir, { recursive: true });
const json = `${JSON.stringify(result, null, 2)}\n`;
await writeFile(path.join(dir, `${result.time.replaceAll(":", "-")}.json`), json);
await writeFile(path.join(dir, "latest.json"), json);
process.stdout.write(`results: bench/results/latest.json\n`);
