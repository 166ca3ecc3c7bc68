import type { TempHome } from "../../packages/testing/src/index.ts";
import type { Summary } from "./stats.ts";

export interface BenchRow {
  suite: string;
  name: string;
  subject: Summary;
  baselineName: string;
  baseline: Summary;
  /** subject p50 / baseline p50, from the same run. */
  ratio: number;
  /** What the subject is meant to achieve against the baseline, and whether this run did. */
  target?: { text: string; met: boolean };
  /** What the figures are when they are not milliseconds per operation; absent: milliseconds. */
  unit?: RowUnit;
}

/**
 * The real unit of a row that does not measure milliseconds per operation.
 * - `rate`: the figure is `perSecond`, counted in `name` ("calls/s", "MiB/s"); p50 and p99 stay
 *   milliseconds per operation, so `ratio` is still subject p50 / baseline p50.
 * - `value`: p50, p99 and mean are in `name` ("MiB", "MB of RSS"); `perSecond` means nothing.
 */
export interface RowUnit {
  kind: "rate" | "value";
  name: string;
}

export interface BenchContext {
  home: TempHome;
  quick: boolean;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
