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
}

export interface BenchContext {
  home: TempHome;
  quick: boolean;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
