// The scale bench's measuring run (scripts/bench/scale-run.ts) with three sandboxes and two-second
// floods: what it reports must be true of the daemon, whatever the figures are.
import { execFileSync } from "node:child_process";
import { makeSandboxHome, type SandboxHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failedCount } from "../../../scripts/bench/scale-guest-calls.ts";
import {
  type CleanupReport,
  homeLabel,
  pacedRate,
  type ScaleOptions,
  type ScaleResult,
  ScaleRun,
} from "../../../scripts/bench/scale-run.ts";

const BRANCHES = ["scale-a", "scale-b", "scale-c"];

let bench: SandboxHome;
let options: ScaleOptions;
let result: ScaleResult;
let cleaned: CleanupReport;
let runLabel: string;

beforeAll(async () => {
  bench = await makeSandboxHome({ branches: BRANCHES });
  options = {
    home: bench.home,
    repo: bench.repo.main,
    worktrees: BRANCHES.map((b) => bench.repo.worktrees[b] as string),
    image: "wm-sandbox:demo",
    concurrency: BRANCHES.length,
    rate: pacedRate(),
    floodSeconds: 2,
    victimSeconds: 2,
    flooders: 4,
    listCalls: 3,
    log: () => undefined,
  };
  const run = new ScaleRun(options);
  runLabel = run.runLabel;
  try {
    result = await run.measure();
  } finally {
    cleaned = await run.cleanup();
  }
}, 600_000);

afterAll(() => bench?.cleanup());

describe("the scale bench's run", () => {
  it("creates every sandbox through the daemon, and all of them run until it ends", () => {
    expect(result.create.ms).toHaveLength(BRANCHES.length);
    expect(result.listedRunning).toBe(BRANCHES.length);
    expect(result.engine.ms).toHaveLength(BRANCHES.length);
    expect(result.exited).toEqual([]);
    expect(result.sameDaemon).toBe(true);
  });

  it("reads the daemon's memory idle and with the sandboxes, and times both listings", () => {
    for (const mb of [...result.rss.idle, ...result.rss.atN]) expect(mb).toBeGreaterThan(10);
    expect(result.sandboxList.idle).toHaveLength(options.listCalls);
    expect(result.sandboxList.atN).toHaveLength(options.listCalls);
    expect(result.wmList.idle).toHaveLength(options.listCalls);
    expect(result.wmList.atN).toHaveLength(options.listCalls);
  });

  it("gets an answer to every paced status call from every sandbox at once (none lost)", () => {
    const each = options.rate * options.floodSeconds;
    expect(result.paced).toMatchObject({ ok: each * BRANCHES.length, refused: 0, failed: {} });
    expect(result.paced.latencies).toHaveLength(each * BRANCHES.length);
  });

  it("sees the flooding sandbox refused by its rate limit while its neighbour's calls all succeed", () => {
    const each = options.rate * options.victimSeconds;
    expect(result.flooder.refused).toBeGreaterThan(0);
    expect(result.flooder.ok).toBeGreaterThan(0);
    expect(failedCount(result.flooder)).toBe(0);
    expect(result.victimQuiet).toMatchObject({ ok: each, refused: 0, failed: {} });
    expect(result.victimLoud).toMatchObject({ ok: each, refused: 0, failed: {} });
  });

  it("leaves no container, record or daemon of the run behind", () => {
    const labelled = (label: string) =>
      execFileSync("docker", ["ps", "-aq", "--filter", label], { encoding: "utf8" }).trim();
    // Sandboxes and their network helpers carry their daemon's wm.home label.
    expect(labelled(`label=wm.home=${homeLabel(bench.home)}`)).toBe("");
    expect(labelled(`label=${runLabel}`)).toBe("");
    expect(cleaned.leftover).toEqual([]);
    expect(cleaned.recordsLeft).toBe(0);
    expect(cleaned.daemonStopped).toBe(true);
    expect(cleaned.stopAllCode).toBe(0);
  });
});
