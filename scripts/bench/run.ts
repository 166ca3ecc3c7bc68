// `pnpm bench`: every benchmark, each beside a baseline measured in the same run.
// Prints a table and writes bench/results/<time>.json and bench/results/latest.json.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempHome } from "../../packages/testing/src/index.ts";
import { daemonSuite } from "./suites/daemon.ts";
import { egressSuite } from "./suites/egress.ts";
import { hostExecSuite } from "./suites/host-exec.ts";
import { sandboxSuite } from "./suites/sandbox.ts";
import { scaleSuite } from "./suites/scale.ts";
import { vmSuite } from "./suites/vm.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const suites: BenchSuite[] = [
  daemonSuite,
  sandboxSuite,
  scaleSuite,
  hostExecSuite,
  egressSuite,
  vmSuite,
];
const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--suite="))?.slice("--suite=".length);

const ms = (v: number) => (v < 10 ? v.toFixed(3) : v.toFixed(1));

function printTable(rows: BenchRow[]): void {
  const lines = rows.flatMap((r) => [
    `${r.name}`,
    `  subject   p50 ${ms(r.subject.p50)} ms  p99 ${ms(r.subject.p99)} ms  ${r.subject.perSecond.toFixed(0)}/s  (n=${r.subject.n})`,
    `  baseline  p50 ${ms(r.baseline.p50)} ms  p99 ${ms(r.baseline.p99)} ms  ${r.baseline.perSecond.toFixed(0)}/s  — ${r.baselineName}`,
    `  ratio     ${r.ratio.toFixed(2)}× baseline (p50)`,
    ...(r.target ? [`  target    ${r.target.text} — ${r.target.met ? "met" : "MISSED"}`] : []),
  ]);
  process.stdout.write(`${lines.join("\n")}\n`);
}

const rows: BenchRow[] = [];
for (const suite of suites.filter((s) => !only || s.name === only)) {
  const home = await makeTempHome({ WM_LOG_LEVEL: "warn", WM_DAEMON_IDLE_TIMEOUT: "60" });
  try {
    rows.push(...(await suite.run({ home, quick })));
  } finally {
    await home.cleanup();
  }
}
printTable(rows);
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
