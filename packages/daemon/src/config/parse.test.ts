import { describe, expect, it } from "vitest";
import { parseYaml } from "./parse.ts";

const TEXT = [
  "sandbox:",
  "  container:",
  "    cpus: 4",
  "panes:",
  "  - command: vim",
  "  - split: horizontal",
  "    size:",
  "base: &base",
  "  done: ok",
  "status_icons: *base",
].join("\n");

describe("parseYaml", () => {
  it("maps key paths to 1-based lines and columns of keys and values", () => {
    const { locate, errors } = parseYaml("/f.yaml", TEXT);
    expect(errors).toEqual([]);
    expect(locate(["sandbox", "container", "cpus"])).toEqual({ line: 3, column: 11 });
    expect(locate(["sandbox", "container", "cpus"], "key")).toEqual({ line: 3, column: 5 });
    expect(locate(["panes", 1, "split"])).toEqual({ line: 6, column: 12 });
    expect(locate(["panes", 1])).toEqual({ line: 6, column: 5 });
  });

  it("points at the key when the value is empty, and at the parent when the key is missing", () => {
    const { locate } = parseYaml("/f.yaml", TEXT);
    expect(locate(["panes", 1, "size"])).toEqual({ line: 7, column: 5 });
    expect(locate(["sandbox", "container", "memory"])).toEqual({ line: 2, column: 3 });
  });

  it("follows aliases", () => {
    const { value, locate } = parseYaml("/f.yaml", TEXT);
    expect(value).toMatchObject({ status_icons: { done: "ok" } });
    expect(locate(["status_icons", "done"])).toEqual({ line: 9, column: 9 });
  });

  it("reports duplicate keys inside lists with their path", () => {
    const { errors, value } = parseYaml("/f.yaml", "panes:\n  - command: a\n    command: b\n");
    expect(value).toBeUndefined();
    expect(errors).toMatchObject([{ file: "/f.yaml", key: "panes.0.command", line: 3, column: 5 }]);
  });

  it("reports an unclosed quote where its value starts", () => {
    const { errors } = parseYaml(
      "/f.yaml",
      'agent: claude\npanes:\n  - command: "vim\n    focus: true\n',
    );
    expect(errors).toMatchObject([{ key: "panes.0.command", line: 3, column: 14 }]);
    expect(errors[0]?.message).toMatch(/^invalid YAML: /);
  });

  it("reports more than one document", () => {
    const { errors } = parseYaml("/f.yaml", "agent: a\n---\nagent: b\n");
    expect(errors).toMatchObject([
      { line: 2, message: "invalid YAML: the file must hold one document (no ---)" },
    ]);
  });

  it("reads an empty file as no keys", () => {
    expect(parseYaml("/f.yaml", "").value).toBeNull();
    expect(parseYaml("/f.yaml", "# only a comment\n").errors).toEqual([]);
  });

  it("refuses collections nested more than 128 levels deep without composing them", () => {
    const nested = (depth: number) => `x:\n  ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
    expect(parseYaml("/f.yaml", nested(127)).errors).toEqual([]);
    // Deep enough to exhaust the stack were it composed, which can abort the process.
    const { errors } = parseYaml("/f.yaml", nested(100_000));
    expect(errors).toEqual([
      {
        file: "/f.yaml",
        key: "",
        line: 2,
        column: 130,
        message: "invalid YAML: nested more than 128 levels deep",
      },
    ]);
  });

  it("refuses an alias used inside the collection its anchor names", () => {
    const { errors, value } = parseYaml("/f.yaml", "a: &a\n  b: *a\n");
    expect(value).toBeUndefined();
    expect(errors[0]?.message).toMatch(/alias \(\*name\) is used inside the collection/);
  });

  it("refuses aliases that stack collections more than 128 levels deep", () => {
    const lines = [`a0: &a0 ${"[".repeat(100)}${"]".repeat(100)}`];
    lines.push(`a1: &a1 ${"[".repeat(100)}*a0${"]".repeat(100)}`);
    expect(parseYaml("/f.yaml", lines.join("\n")).errors[0]?.message).toMatch(
      /data nests more than 128 levels deep/,
    );
  });
});
