import { describe, expect, it } from "vitest";
import { cachedResolver, type ResolvedAddress } from "./upstream.ts";

describe("cachedResolver", () => {
  it("asks once per name within the time to live, again after it, and never keeps a failure", async () => {
    let now = 1_000;
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const asked: string[] = [];
      let fail = true;
      const resolve = cachedResolver(async (host): Promise<ResolvedAddress[]> => {
        asked.push(host);
        if (host === "flaky.test" && fail) throw new Error("SERVFAIL");
        return [{ address: "203.0.113.7", family: 4 }];
      }, 5000);
      await resolve("a.test");
      await resolve("a.test");
      expect(asked).toEqual(["a.test"]);
      now += 5001;
      await resolve("a.test");
      expect(asked).toEqual(["a.test", "a.test"]);
      await expect(resolve("flaky.test")).rejects.toThrow("SERVFAIL");
      fail = false;
      expect(await resolve("flaky.test")).toEqual([{ address: "203.0.113.7", family: 4 }]);
      expect(asked.filter((h) => h === "flaky.test")).toHaveLength(2);
    } finally {
      Date.now = realNow;
    }
  });
});
