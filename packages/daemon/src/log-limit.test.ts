import { describe, expect, it } from "vitest";
import { LogLimiter } from "./log-limit.ts";

function bench(limit = { perSecond: 2, burst: 3, maxKeys: 4 }) {
  let now = 0;
  const limiter = new LogLimiter(limit, () => now);
  const lines: string[] = [];
  const submit = (key: string, n = 1) => {
    for (let i = 0; i < n; i++) {
      limiter.submit(
        key,
        () => lines.push(key),
        (count) => lines.push(`${key} (${count} similar suppressed)`),
      );
    }
  };
  return { limiter, lines, submit, advance: (ms: number) => (now += ms) };
}

describe("log limiter", () => {
  it("writes a burst, counts the rest, and summarises them before the next written line", () => {
    const { lines, submit, advance } = bench();
    submit("a", 100);
    expect(lines).toEqual(["a", "a", "a"]);
    advance(1000); // two tokens at 2 per second: the summary, then the line
    submit("a", 2);
    expect(lines).toEqual(["a", "a", "a", "a (97 similar suppressed)", "a"]);
  });

  it("a key flooded for a minute writes at its rate, summaries included", () => {
    const { limiter, lines, submit, advance } = bench();
    for (let ms = 0; ms < 60_000; ms += 10) {
      submit("a");
      advance(10);
    }
    limiter.sweep();
    expect(lines.length).toBeLessThanOrEqual(3 + 2 * 60 + 1);
    const summarised = lines
      .map((l) => Number(/\((\d+) similar suppressed\)/.exec(l)?.[1] ?? 0))
      .reduce((a, b) => a + b, 0);
    expect(lines.filter((l) => l === "a").length + summarised).toBe(6000);
  });

  it("keeps keys apart: one key's flood does not silence another", () => {
    const { lines, submit } = bench();
    submit("flood", 1000);
    submit("quiet");
    expect(lines.filter((l) => l === "quiet")).toHaveLength(1);
    expect(lines).toHaveLength(4);
  });

  it("a sweep writes pending counts once and forgets only keys that are full again", () => {
    const { limiter, lines, submit, advance } = bench();
    submit("a", 5);
    submit("b", 1);
    limiter.sweep();
    expect(lines.slice(4)).toEqual(["a (2 similar suppressed)"]);
    limiter.sweep();
    expect(lines).toHaveLength(5);
    expect(limiter.keys).toBe(2);
    advance(10_000);
    limiter.sweep();
    expect(limiter.keys).toBe(0);
  });

  it("caps the number of keys, evicting the one unused the longest and reporting its count", () => {
    const { limiter, lines, submit } = bench({ perSecond: 1, burst: 1, maxKeys: 2 });
    submit("a", 3);
    submit("b");
    submit("a");
    submit("c"); // evicts b (a was used more recently)
    expect(limiter.keys).toBe(2);
    submit("d"); // evicts a, whose 3 suppressed lines are reported
    expect(lines).toEqual(["a", "b", "c", "a (3 similar suppressed)", "d"]);
    for (let i = 0; i < 10_000; i++) submit(`k${i}`);
    expect(limiter.keys).toBe(2);
  });
});
