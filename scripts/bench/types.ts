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
}

export interface BenchContext {
  home: TempHome;
  quick: boolean;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
