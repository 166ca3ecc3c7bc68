import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { BuildProgress } from "../types.ts";
import { BuilderError, followBuild } from "./build-progress.ts";

function feed(chunks: string[]) {
  const s = new PassThrough();
  const seen: BuildProgress[] = [];
  const done = followBuild(s, (p) => seen.push(p));
  for (const c of chunks) s.write(c);
  s.end();
  return { done, seen };
}

describe("followBuild", () => {
  it("reports each line, even when a message is split across chunks", async () => {
    const { done, seen } = feed([
      '{"stream":"Step 1/2 : FROM x\\n"}\n{"str',
      'eam":" ---> abc\\n"}\r\n{"aux":{"ID":"sha256:1"}}\n',
      '{"status":"Pulling","id":"l1","progress":"[=> ]"}\n',
    ]);
    await done;
    expect(seen).toEqual([
      { line: "Step 1/2 : FROM x" },
      { line: " ---> abc" },
      { line: "l1 Pulling [=> ]" },
    ]);
  });

  it("rejects with the builder's own message", async () => {
    const { done, seen } = feed([
      '{"stream":"Step 2/2 : RUN false\\n"}\n',
      '{"errorDetail":{"code":1,"message":"The command \'/bin/sh -c false\' returned a non-zero code: 1"},"error":"x"}\n',
    ]);
    await expect(done).rejects.toThrow(BuilderError);
    await expect(done).rejects.toThrow("returned a non-zero code: 1");
    expect(seen.at(-1)).toEqual({
      error: "The command '/bin/sh -c false' returned a non-zero code: 1",
    });
  });
});
