// Bundles the three programs into dist/: wm.cjs (CLI), wmd.js (daemon), wm-shim.cjs (in-sandbox),
// and config-check-worker.js, the daemon's worker thread for parsing large config files.
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildCli } from "./cli-startup.mjs";
import { daemonStubs, makeAscii } from "./daemon-bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist");
const entries = [
  { in: "packages/daemon/src/bin/wmd.ts", out: "wmd" },
  // One CommonJS file, minified (decision 0023): every `wm status set` in a sandbox starts it, and
  // CommonJS skips the ES module loader's start; code behind a dynamic import (the WebSocket client,
  // the VM agent, the relay) runs, and loads its Node modules, only when its command does.
  { in: "packages/shim/src/bin/wm-shim.ts", out: "wm-shim", ext: ".cjs" },
  { in: "packages/daemon/src/config/check-worker.ts", out: "config-check-worker" },
];

// ESM bundles of CommonJS dependencies need a real `require` for Node built-ins.
const banner = [
  "#!/usr/bin/env node",
  'import { createRequire as __wmCreateRequire } from "node:module";',
  "const require = __wmCreateRequire(import.meta.url);",
  'import { fileURLToPath as __wmFileURLToPath } from "node:url";',
  "const __filename = __wmFileURLToPath(import.meta.url);",
  'const __dirname = __wmFileURLToPath(new URL(".", import.meta.url));',
].join("\n");

await mkdir(outdir, { recursive: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
};
const [cliFiles] = await Promise.all([
  // The CLI is CommonJS, one file per command (scripts/cli-startup.mjs, decision 0026).
  buildCli({ root, entry: "packages/cli/src/bin/wm.ts", outdir, options: common }),
  ...entries.map((e) =>
    build({
      ...common,
      entryPoints: [{ in: e.in, out: e.out }],
      outdir,
      ...(e.ext === ".cjs"
        ? { format: "cjs", outExtension: { ".js": ".cjs" }, minify: true }
        : { format: "esm", outExtension: { ".js": ".js" }, banner: { js: banner } }),
      // The daemon's PTY library, a native addon loaded from node_modules when a host command
      // needs it.
      external: ["*.node", "@lydell/node-pty"],
      // What of dockerode the daemon never runs (ssh:// hosts, BuildKit) stays out of its memory.
      ...(e.out === "wmd" ? { plugins: [daemonStubs()] } : {}),
    }),
  ),
]);
// Chunks of an earlier build would pile up beside the new ones. Removed once this build's are
// written: another build of the same tree writes the same names meanwhile and keeps its files.
for (const f of await readdir(outdir)) {
  if (/^(wm-[a-z-]+-[A-Z0-9]{8}\.c?js|wm-shim\.js)(\.map)?$/.test(f) && !cliFiles.includes(f))
    await rm(path.join(outdir, f), { force: true });
}
// The daemon's text is held as long as it runs: one byte a character only if all are ASCII.
await makeAscii(path.join(outdir, "wmd.js"));
const programs = [...entries.map((e) => `${e.out}${e.ext ?? ".js"}`), "wm.cjs", "wm.js"];
await Promise.all(programs.map((f) => chmod(path.join(outdir, f), 0o755)));
