import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "./args.ts";
import type { BenchSuite } from "./types.ts";

const suite = (name: string): BenchSuite => ({ name, run: async () => [] });
const daemon = suite("daemon");
const sandbox = suite("sandbox");
const peers = suite("peers");
const parse = (...args: string[]) => parseBenchArgs(args, [daemon, sandbox], [peers]);

describe("parseBenchArgs", () => {
  it("runs every default suite, and never an opt-in one, when given nothing", () => {
    expect(parse()).toEqual({ quick: false, suites: [daemon, sandbox] });
    expect(parse("--quick")).toEqual({ quick: true, suites: [daemon, sandbox] });
  });

  it("adds the opt-in suites with --peers", () => {
    expect(parse("--peers").suites).toEqual([daemon, sandbox, peers]);
    expect(parse("--suite=daemon", "--peers").suites).toEqual([daemon, peers]);
  });

  it("runs one suite by name, an opt-in one included", () => {
    expect(parse("--suite=sandbox").suites).toEqual([sandbox]);
    expect(parse("--suite=peers", "--quick")).toEqual({ quick: true, suites: [peers] });
    expect(parse("--suite=peers", "--peers").suites).toEqual([peers]);
  });

  it("names a wrong argument and what is accepted", () => {
    expect(() => parse("--suite=peer")).toThrow(
      'no suite named "peer"; options: --quick, --peers, --suite=NAME (NAME: daemon, sandbox, peers)',
    );
    expect(() => parse("--peer")).toThrow('unknown argument "--peer"; options: --quick');
  });
});
