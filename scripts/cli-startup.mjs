// How the CLI is bundled, for the start of a one-shot `wm` (docs/performance.md, decision 0026):
// esbuild splits it into ES modules so that each command's code is its own file, what every
// command needs moves into the entry, and each file then becomes CommonJS, so that `wm` starts
// without Node's ES module loader. Commands load their file with `require` when they run.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";

/** `wm` was dist/wm.js (an ES module) before; links and scripts naming it keep working. */
const EARLIER_ENTRY = `#!/usr/bin/env node
// wm is dist/wm.cjs; this file runs it for links made to its earlier name. Starting here costs
// Node's ES module loader first, which wm.cjs avoids (docs/decisions/0026).
import { createRequire } from "node:module";
createRequire(import.meta.url)("./wm.cjs");
`;

/**
 * Builds `entry` into `outdir` as `wm.cjs` (with the shebang) and one `wm-<name>-<hash>.cjs` per
 * chunk, each with its linked source map, and `wm.js` for the earlier name. The ES modules in
 * between live in a directory of their own, removed at the end. Returns the names written.
 */
export async function buildCli({ root, entry, outdir, options }) {
  const esmDir = await mkdtemp(path.join(os.tmpdir(), "wm-cli-esm-"));
  try {
    const { metafile } = await build({
      ...options,
      entryPoints: [{ in: entry, out: "wm" }],
      outdir: esmDir,
      format: "esm",
      splitting: true,
      chunkNames: "wm-[name]-[hash]",
      metafile: true,
    });
    await mergeStartupChunks({ root, outdir: esmDir, metafile, options });
    const files = (await readdir(esmDir)).filter((f) => f.endsWith(".js"));
    await Promise.all(
      files.map((f) => toCommonJs({ file: path.join(esmDir, f), outdir, options })),
    );
    await writeFile(path.join(outdir, "wm.js"), EARLIER_ENTRY);
    const cjs = files.map((f) => f.replace(/\.js$/, ".cjs"));
    return [...cjs, ...cjs.map((f) => `${f}.map`), "wm.js"];
  } finally {
    await rm(esmDir, { recursive: true, force: true });
  }
}

/**
 * Moves into wm.js the chunks it imports (what every command needs: the command table, the RPC
 * client, errors and exit codes), so a command loads wm.js, its own chunk and the few it shares
 * with some other commands. Those chunks then import these names from wm.js, the one copy of
 * each module. Exported names are unique across a split build; a clash would make two modules
 * one, so it stops the build.
 */
async function mergeStartupChunks({ root, outdir, metafile, options }) {
  const { outputs } = metafile;
  const keyOf = (file) => path.relative(root, path.join(outdir, file));
  const merged = new Set();
  const visit = (key) => {
    for (const i of outputs[key].imports) {
      if (i.kind !== "import-statement" || i.external || merged.has(i.path)) continue;
      merged.add(i.path);
      visit(i.path);
    }
  };
  visit(keyOf("wm.js"));
  const exporter = new Map();
  for (const key of merged) {
    for (const name of outputs[key].exports) {
      if (exporter.has(name))
        throw new Error(`${name} is exported by both ${exporter.get(name)} and ${key}`);
      exporter.set(name, key);
    }
  }
  const files = [...merged].map((key) => path.basename(key));
  await build({
    ...options,
    format: "esm",
    stdin: {
      contents: [...files.map((f) => `export * from "./${f}";`), 'import "./wm.js";'].join("\n"),
      resolveDir: outdir,
      sourcefile: "wm-startup.js",
      loader: "js",
    },
    outfile: path.join(outdir, "wm.js"),
    allowOverwrite: true,
    plugins: [
      {
        name: "startup-chunks",
        setup(b) {
          b.onResolve({ filter: /^\.\/wm[-.]/ }, (a) =>
            a.path === "./wm.js" || files.includes(a.path.slice(2))
              ? { path: path.join(outdir, a.path.slice(2)) }
              : { path: a.path, external: true },
          );
        },
      },
    ],
  });
  for (const f of await readdir(outdir)) {
    if (!/^wm-.*\.js$/.test(f) || files.includes(f)) continue;
    const text = await readFile(path.join(outdir, f), "utf8");
    const linked = files.reduce((t, m) => t.replaceAll(`"./${m}"`, '"./wm.js"'), text);
    if (linked !== text) await writeFile(path.join(outdir, f), linked);
  }
  for (const f of files) await rm(path.join(outdir, f), { force: true });
  for (const f of files) await rm(path.join(outdir, `${f}.map`), { force: true });
}

/**
 * One ES module of the split CLI as CommonJS: its imports of the other files become `require`s
 * of their `.cjs` (a dynamic `import()` too, run when it is reached), its exports
 * `module.exports`. A chunk's `require("./wm.cjs")` is the running entry itself: Node loads the
 * entry by its real path, also through a link on PATH. esbuild follows the ES module's source
 * map back to the TypeScript.
 */
async function toCommonJs({ file, outdir, options }) {
  const name = path.basename(file, ".js");
  const usesImportMeta = (await readFile(file, "utf8")).includes("import.meta");
  await build({
    ...options,
    // Names the file in the output's comments without the directory's random part.
    absWorkingDir: path.dirname(file),
    entryPoints: [file],
    outfile: path.join(outdir, `${name}.cjs`),
    format: "cjs",
    supported: { "dynamic-import": false },
    // `spawn-daemon.ts` finds wmd.js beside its own file; any other use of import.meta stops
    // the build instead of becoming an empty object.
    define: usesImportMeta ? { "import.meta.url": "__wmImportMetaUrl" } : {},
    logOverride: { "empty-import-meta": "error" },
    banner: {
      js: [
        ...(name === "wm" ? ["#!/usr/bin/env node"] : []),
        ...(usesImportMeta
          ? ['var __wmImportMetaUrl = require("node:url").pathToFileURL(__filename).href;']
          : []),
      ].join("\n"),
    },
    plugins: [
      {
        name: "cli-siblings",
        setup(b) {
          b.onResolve({ filter: /^\.\/wm(-.+)?\.js$/ }, (a) =>
            a.kind === "entry-point"
              ? undefined
              : { path: a.path.replace(/\.js$/, ".cjs"), external: true },
          );
        },
      },
    ],
  });
}
