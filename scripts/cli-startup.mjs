// Two steps after esbuild has split the CLI (scripts/build.mjs), both for the start of a one-shot
// `wm` (docs/performance.md): every file an ES module loads costs a resolve, a read and a link.
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

/**
 * Moves into wm.js the chunks it imports (what every command needs: the command table, the RPC
 * client, errors and exit codes), so a command loads wm.js, its own chunk and the few it shares
 * with some other commands. Those chunks then import these names from wm.js, the one copy of
 * each module. Exported names are unique across a split build; a clash would make two modules
 * one, so it stops the build.
 */
export async function mergeStartupChunks({ root, outdir, metafile, banner, options }) {
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
  const withoutBanner = (text) =>
    text.startsWith(banner)
      ? `${"\n".repeat(banner.split("\n").length - 1)}${text.slice(banner.length)}`
      : text;
  await build({
    ...options,
    stdin: {
      contents: [...files.map((f) => `export * from "./${f}";`), 'import "./wm.js";'].join("\n"),
      resolveDir: outdir,
      sourcefile: "wm-startup.js",
      loader: "js",
    },
    outfile: path.join(outdir, "wm.js"),
    allowOverwrite: true,
    banner: { js: banner },
    plugins: [
      {
        name: "startup-chunks",
        setup(b) {
          b.onResolve({ filter: /^\.\/wm[-.]/ }, (a) =>
            a.path === "./wm.js" || files.includes(a.path.slice(2))
              ? { path: path.join(outdir, a.path.slice(2)) }
              : { path: a.path, external: true },
          );
          b.onLoad({ filter: /\.js$/ }, async (a) => ({
            contents: withoutBanner(await readFile(a.path, "utf8")),
            loader: "js",
            resolveDir: outdir,
          }));
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
 * Blanks the banner (its `require`, `__filename` and `__dirname`, and the imports they need)
 * in the CLI's files that use none of them: all but wm.js, which holds esbuild's `__require`
 * serving `ws`. Blank lines keep the source maps' line numbers.
 */
export async function dropUnusedBanners({ outdir, banner }) {
  const [hashbang, ...rest] = banner.split("\n");
  for (const f of await readdir(outdir)) {
    if (!/^wm(-[a-z-]+-[A-Z0-9]{8})?\.js$/.test(f)) continue;
    const text = await readFile(path.join(outdir, f), "utf8");
    const body = text.slice(banner.length);
    if (!text.startsWith(banner) || /\b(require|__dirname|__filename)\b/.test(body)) continue;
    await writeFile(path.join(outdir, f), `${hashbang}${"\n".repeat(rest.length)}${body}`);
  }
}
