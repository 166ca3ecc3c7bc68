import { appendFile } from "node:fs/promises";
import type { ConfigDiagnostic } from "@wm/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type TempTree, tempTree } from "../../test/fixtures/config/temp-tree.ts";
import { createLogger } from "../log.ts";
import { ShownConfigWarnings } from "./shown-warnings.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

const log = createLogger({ level: "silent" });
const warning = (file: string, key: string): ConfigDiagnostic => ({
  file,
  key,
  message: `unknown key "${key}" is ignored`,
});

describe("ShownConfigWarnings", () => {
  it("hands out a file's warnings once, again after the file changes, and remembers across instances", async () => {
    tree = await tempTree({ "a.yaml": "x: 1\n", "b.yaml": "y: 1\n", "state/": "" });
    const [a, b] = [tree.at("a.yaml"), tree.at("b.yaml")];
    const all = [warning(a, "x"), warning(b, "y")];
    const shown = new ShownConfigWarnings(tree.at("state"), log);
    expect(await shown.unseen(all)).toEqual(all);
    expect(await shown.unseen(all)).toEqual([]);

    await appendFile(b, "# changed\n");
    const again = new ShownConfigWarnings(tree.at("state"), log);
    expect(await again.unseen(all)).toEqual([warning(b, "y")]);
    expect(await again.unseen(all)).toEqual([]);
  });

  it("always hands out the warnings of a file it cannot look at", async () => {
    tree = await tempTree({ "state/": "" });
    const gone = [warning(tree.at("missing.yaml"), "x")];
    const shown = new ShownConfigWarnings(tree.at("state"), log);
    expect(await shown.unseen(gone)).toEqual(gone);
    expect(await shown.unseen(gone)).toEqual(gone);
  });
});
