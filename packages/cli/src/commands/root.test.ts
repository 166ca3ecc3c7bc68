import { describe, expect, it } from "vitest";
import { rootCommand } from "./root.ts";
import { type CommandEntry, type CommandSpec, loadCommand } from "./spec.ts";

interface Checked {
  path: string;
  entry: CommandEntry;
  command: CommandSpec;
}

/** Loads every entry of the table, depth first, the way `wm` does on the way to a command. */
async function loadAll(entry: CommandEntry, path: string): Promise<Checked[]> {
  const command = await loadCommand(entry);
  if (!command) throw new Error(`${path}: the table's loader gave no command`);
  const below = await Promise.all(
    (command.subcommands ?? []).map((s) => loadAll(s, `${path} ${s.name}`)),
  );
  return [{ path, entry, command }, ...below.flat()];
}

describe("the command table", () => {
  it("resolves the module of every command, named as the table names it", async () => {
    const all = await loadAll(rootCommand, "wm");
    const lazy = all.filter((c) => "load" in c.entry);
    expect(lazy.map((c) => c.path)).toEqual(
      expect.arrayContaining(["wm add", "wm sandbox", "wm daemon logs", "wm completions"]),
    );
    for (const { path, entry, command } of all) {
      expect(command.name, path).toBe(entry.name);
      expect(command.aliases ?? [], path).toEqual(entry.aliases ?? []);
      expect(command.summary, path).not.toBe("");
      expect(command.run !== undefined || command.subcommands !== undefined, path).toBe(true);
    }
  });

  it("has no two commands answering to the same word at one level", async () => {
    for (const { path, command } of await loadAll(rootCommand, "wm")) {
      const words = (command.subcommands ?? []).flatMap((s) => [s.name, ...(s.aliases ?? [])]);
      expect(new Set(words).size, path).toBe(words.length);
    }
  });
});
