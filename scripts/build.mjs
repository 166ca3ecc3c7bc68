// Bundles the three programs into dist/: wm.js (CLI), wmd.js (daemon), wm-shim.cjs (in-sandbox),
// and config-check-worker.js, the daemon's worker thread for parsing large config files.
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { dropUnusedBanners, mergeStartupChunks } from "./cli-startup.mjs";
import { daemonStubs, makeAscii } from "./daemon-bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist");
const entries = [
  { in: "packages/cli/src/bin/wm.ts", out: "wm" },
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
// Chunks of an earlier build would pile up beside the new ones.
for (const f of await readdir(outdir))
  if (/^(wm-[a-z-]+-[A-Z0-9]{8}|wm-shim)\.js(\.map)?$/.test(f)) await rm(path.join(outdir, f));
const results = await Promise.all(
  entries.map((e) =>
    build({
      absWorkingDir: root,
      entryPoints: [{ in: e.in, out: e.out }],
      outdir,
      bundle: true,
      platform: "node",
      target: "node20",
      ...(e.ext === ".cjs"
        ? { format: "cjs", outExtension: { ".js": ".cjs" }, minify: true }
        : { format: "esm", outExtension: { ".js": ".js" }, banner: { js: banner } }),
      sourcemap: "linked",
      legalComments: "none",
      // The daemon's PTY library, a native addon loaded from node_modules when a host command
      // needs it.
      external: ["*.node", "@lydell/node-pty"],
      logLevel: "warning",
      // The CLI loads what a command needs: code behind a dynamic import (the WebSocket client,
      // the dashboard, completions, each command) goes to chunks beside it, compiled only when
      // used; then what all commands share moves into wm.js (scripts/cli-startup.mjs). The
      // daemon and the shim stay one file each (the shim is copied into sandboxes as one).
      ...(e.out === "wm"
        ? { splitting: true, chunkNames: "wm-[name]-[hash]", metafile: true }
        : {}),
      // What of dockerode the daemon never runs (ssh:// hosts, BuildKit) stays out of its memory.
      ...(e.out === "wmd" ? { plugins: [daemonStubs()] } : {}),
    }),
  ),
);
await mergeStartupChunks({
  root,
  outdir,
  banner,
  metafile: results[entries.findIndex((e) => e.out === "wm")].metafile,
  options: {
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  },
});
await dropUnusedBanners({ outdir, banner });
// The daemon's text is held as long as it runs: one byte a character only if all are ASCII.
await makeAscii(path.join(outdir, "wmd.js"));
await Promise.all(entries.map((e) => chmod(path.join(outdir, `${e.out}${e.ext ?? ".js"}`), 0o755)));
