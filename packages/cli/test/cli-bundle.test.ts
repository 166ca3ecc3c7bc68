// The CLI as it is installed: dist/wm.cjs, run by node or through a link on PATH, against a daemon
// of the test's own. How it is split is in scripts/cli-startup.mjs (decision 0026).
import { promises as fs } from "node:fs";
import path from "node:path";
import { DIST, makeTempHome, runCommand, runWm, type TempHome, WM_BIN } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let home: TempHome;
beforeAll(async () => {
  home = await makeTempHome();
  const started = await runWm(["daemon", "start"], { env: home.env });
  expect(started.code, started.stderr).toBe(0);
});
afterAll(async () => {
  await runWm(["daemon", "stop"], { env: home.env });
  await home.cleanup();
});

interface Loaded {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Node's own modules the run loaded (process.moduleLoadList at exit). */
  modules: string[];
  /** The files of dist/ it loaded, by name. */
  files: string[];
}

async function runLoaded(args: string[]): Promise<Loaded> {
  const out = path.join(home.root, "loaded.json");
  const dump = path.join(home.root, "dump.cjs");
  await fs.writeFile(
    dump,
    `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify({ modules: process.moduleLoadList, files: Object.keys(require.cache) })));\n`,
  );
  const run = await runCommand(process.execPath, ["--require", dump, WM_BIN, ...args], {
    env: home.env,
    timeoutMs: 30_000,
  });
  const { modules, files } = JSON.parse(await fs.readFile(out, "utf8")) as {
    modules: string[];
    files: string[];
  };
  return {
    ...run,
    modules,
    files: files.filter((f) => path.dirname(f) === DIST).map((f) => path.basename(f)),
  };
}

describe("the CLI bundle", () => {
  it("`wm daemon status` is CommonJS and one file: no ES module is linked, no other file loads", async () => {
    const run = await runLoaded(["daemon", "status"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^state +running$/m);
    expect(run.modules).not.toContain("NativeModule internal/modules/esm/module_job");
    expect(run.files).toEqual(["wm.cjs"]);
    // Plain words are positionals without Node's argument parser, checked as before.
    expect(run.modules).not.toContain("NativeModule internal/util/parse_args/parse_args");
    const extra = await runLoaded(["daemon", "status", "extra"]);
    expect(extra).toMatchObject({ code: 2, stdout: "" });
    expect(extra.stderr).toContain('unexpected argument "extra"');
  });

  it("other commands load their own file when they run, and no other command's", async () => {
    const run = await runLoaded(["config", "--help"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.modules).not.toContain("NativeModule internal/modules/esm/module_job");
    const own = run.files.filter((f) => /^wm-config-[A-Z0-9]{8}\.cjs$/.test(f));
    expect(own.length).toBeGreaterThan(0);
    const others = run.files.filter(
      (f) => f !== "wm.cjs" && !own.includes(f) && !/^wm-chunk-[A-Z0-9]{8}\.cjs$/.test(f),
    );
    expect(others).toEqual([]);
  });

  it("runs through a link on PATH, as an install puts it there, once", async () => {
    const bin = path.join(home.root, "bin");
    await fs.mkdir(bin);
    await fs.symlink(WM_BIN, path.join(bin, "wm"));
    const env = { ...home.env, PATH: `${bin}:${path.dirname(process.execPath)}:${home.env.PATH}` };
    const version = await runCommand("wm", ["--version"], { env, timeoutMs: 30_000 });
    expect(version).toMatchObject({ code: 0, stdout: "wm 0.1.0\n", stderr: "" });
    const status = await runCommand("wm", ["daemon", "status"], { env, timeoutMs: 30_000 });
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(status.stdout.match(/^state +running$/gm)).toHaveLength(1);
  });

  it("dist/wm.js, the name earlier installs link to, runs the same CLI", async () => {
    const earlier = path.join(DIST, "wm.js");
    const run = await runCommand(process.execPath, [earlier, "daemon", "status", "--json"], {
      env: home.env,
      timeoutMs: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ socketPath: home.socketPath });
  });

  it("every file of the CLI links its source map, which leads back to the TypeScript", async () => {
    const run = await runLoaded(["completions", "bash"]);
    const sources: string[] = [];
    for (const f of run.files) {
      const text = await fs.readFile(path.join(DIST, f), "utf8");
      expect(text, f).toContain(`//# sourceMappingURL=${f}.map`);
      const map = JSON.parse(await fs.readFile(path.join(DIST, `${f}.map`), "utf8")) as {
        sources: string[];
      };
      sources.push(...map.sources);
    }
    expect(sources).toEqual(
      expect.arrayContaining([
        "../packages/cli/src/main.ts",
        "../packages/cli/src/commands/daemon.ts",
        "../packages/cli/src/commands/completions.ts",
      ]),
    );
  });
});
