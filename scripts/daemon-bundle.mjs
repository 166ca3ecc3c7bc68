// What the daemon bundle (dist/wmd.js) leaves out of its dependencies, and how its text is kept
// cheap to hold (docs/performance.md, Scale): scripts/build.mjs applies both.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const stubDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "daemon-stubs");

/**
 * Dependency modules the daemon never runs, each replaced by a stub (scripts/daemon-stubs/) that
 * fails with the reason if it is called; `leaves` names the packages that go with it.
 */
export const DAEMON_STUBS = [
  {
    module: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]ssh\.js$/,
    stub: "docker-modem-ssh.cjs",
    leaves: ["ssh2"],
  },
  {
    module: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]session\.js$/,
    stub: "dockerode-session.cjs",
    leaves: ["@grpc/grpc-js", "@grpc/proto-loader"],
  },
  {
    module: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]buildkit\.js$/,
    stub: "dockerode-buildkit.cjs",
    leaves: ["protobufjs"],
  },
];

/**
 * An esbuild plugin that loads each stub in place of its module. A stub that met no module
 * fails the build: dockerode or docker-modem has moved the code, and what it loads is back.
 */
export function daemonStubs() {
  return {
    name: "wm-daemon-stubs",
    setup(build) {
      const met = new Set();
      build.onStart(() => met.clear());
      for (const s of DAEMON_STUBS) {
        build.onLoad({ filter: s.module }, async () => {
          met.add(s);
          const file = path.join(stubDir, s.stub);
          return { contents: await readFile(file, "utf8"), loader: "js", watchFiles: [file] };
        });
      }
      build.onEnd((result) => {
        if (result.errors.length > 0) return;
        const missed = DAEMON_STUBS.filter((s) => !met.has(s));
        return {
          errors: missed.map((s) => ({
            text: `no module matched ${s.module} for scripts/daemon-stubs/${s.stub}; update scripts/daemon-bundle.mjs so that the daemon leaves out ${s.leaves.join(", ")}`,
          })),
        };
      });
    },
  };
}

/**
 * `text` with each character outside ASCII replaced by "?". esbuild escapes them in strings,
 * regular expressions and names (its default `charset: "ascii"`), not in the comments it keeps,
 * and one of them makes V8 hold the whole source as a two-byte string, twice the memory. One
 * UTF-16 unit for one, so the source map's lines and columns still hold.
 */
export const asciiComments = (text) => text.replace(/[\u0080-\uffff]/g, "?");

/** Rewrites a bundle file with `asciiComments`. */
export async function makeAscii(file) {
  const text = await readFile(file, "utf8");
  const ascii = asciiComments(text);
  if (ascii !== text) await writeFile(file, ascii);
}
