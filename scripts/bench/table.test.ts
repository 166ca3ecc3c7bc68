import { describe, expect, it } from "vitest";
import type { Summary } from "./stats.ts";
import { formatNumber, formatTable } from "./table.ts";
import type { BenchRow } from "./types.ts";

const summary = (p50: number, p99 = p50, perSecond = 1000 / p50): Summary => ({
  n: 10,
  p50,
  p99,
  mean: p50,
  perSecond,
});

const row = (over: Partial<BenchRow>): BenchRow => ({
  suite: "test",
  name: "a figure",
  subject: summary(2),
  baselineName: "a baseline",
  baseline: summary(1),
  ratio: 2,
  ...over,
});

const rows: BenchRow[] = [
  row({
    name: "daemon.status round trip on one persistent connection (WebSocket over the Unix socket)",
    subject: summary(0.231, 0.412),
    baselineName: "raw Node Unix-socket JSON echo",
    baseline: summary(0.035),
    ratio: 6.6,
    target: { text: "≤ 3× the echo (p50)", met: false },
  }),
  row({
    name: "daemon.status pipelined on one WebSocket, 64 in flight (30000 calls)",
    subject: summary(0.027, 0.027, 37228.4),
    baselineName: "the raw echo, pipelined the same way",
    baseline: summary(0.0127, 0.0127, 78717),
    ratio: 2.1,
    target: { text: "≥ 30000 calls/s", met: true },
    unit: { kind: "rate", name: "calls/s" },
  }),
  row({
    name: "`wm sandbox run -- true` wall time",
    subject: summary(932, 1210),
    baselineName: "`docker run --rm wm-sandbox:demo true`",
    baseline: summary(492),
    ratio: 1.89,
  }),
  row({
    name: "daemon RSS with 20 sandboxes",
    subject: summary(81.5, 90.25),
    baselineName: "`docker run --rm wm-sandbox:demo true`",
    baseline: summary(60),
    ratio: 1.36,
    unit: { kind: "value", name: "MB" },
  }),
  row({
    name: "VM cold boot to the guest agent connected",
    subject: summary(14_200, 18_400),
    baselineName: "`docker run --rm wm-sandbox:demo true`",
    baseline: summary(447.5),
    ratio: 31.7,
    target: { text: "≤ 8 s (p50, software emulation)", met: false },
  }),
];

/** The table's own lines: the header, its rule, then one per row up to the blank line. */
const tableLines = (out: string) => out.split("\n\n")[0]?.split("\n") ?? [];

describe("formatTable", () => {
  for (const width of [100, 120]) {
    it(`prints one line per row, none wider than ${width} columns`, () => {
      const untargeted = rows.map(({ target: _, ...r }) => r);
      for (const set of [rows, untargeted]) {
        const lines = tableLines(formatTable(set, width));
        expect(lines).toHaveLength(2 + set.length);
        for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
      }
      const lines = tableLines(formatTable(rows, width));
      expect(lines[0]).toMatch(/^#\s+figure\s+subject p50\/p99\s+baseline p50\s+ratio\s+target$/);
    });
  }

  it("prints each row in its own unit: ms, seconds from 1000 ms, a rate, a value", () => {
    const [, , ws, pipelined, run, rss, boot] = tableLines(formatTable(rows, 120));
    expect(ws).toContain("0.231/0.412 ms");
    expect(ws).toContain("[A] 0.035 ms");
    expect(ws).toContain("6.60×");
    expect(ws).toMatch(/MISSED ≤ 3×/);
    expect(pipelined).toContain("37,228 calls/s");
    expect(pipelined).toContain("[B] 78,717 calls/s");
    expect(pipelined).toContain("met ≥ 30000 calls/s");
    expect(pipelined).not.toContain("ms");
    expect(run).toContain("932/1,210 ms");
    expect(run).toMatch(/\[C\] 492 ms\s+1\.89×\s+—$/);
    expect(rss).toContain("81.5/90.3 MB");
    expect(rss).toContain("[C] 60.0 MB");
    expect(boot).toContain("14.2/18.4 s");
    expect(boot).toContain("31.7×");
  });

  it("names each baseline once under the table, and prints shortened cells in full", () => {
    const out = formatTable(rows, 100);
    const legend = out.slice(out.indexOf("\nbaselines:\n"));
    expect(legend).toContain("  [A] raw Node Unix-socket JSON echo\n");
    expect(legend).toContain("  [C] `docker run --rm wm-sandbox:demo true`\n");
    expect(legend.match(/\[C\]/g)).toHaveLength(1);
    expect(legend).not.toContain("[D]");
    const full = out.slice(out.indexOf("\nin full:\n"));
    expect(full).toContain(
      "  1 daemon.status round trip on one persistent connection (WebSocket over the Unix socket)\n" +
        "    target: MISSED ≤ 3× the echo (p50)\n",
    );
    expect(tableLines(out)[2]).toContain("…");
    expect(out.trimEnd().split("\n").at(-1)).toBe("5 rows; targets: 1 met, 2 missed");
  });

  it("says so when there are no rows", () => {
    expect(formatTable([], 120)).toBe("no rows\n");
  });
});

describe("formatNumber", () => {
  it("keeps about three significant digits", () => {
    expect([0.0512, 2.764, 13.84, 137.5, 37228.4].map(formatNumber)).toEqual([
      "0.051",
      "2.76",
      "13.8",
      "138",
      "37,228",
    ]);
    expect(formatNumber(Number.NaN)).toBe("n/a");
  });
});
