// The daemon bundle as scripts/build.mjs writes it: what of its dependencies stays out
// (scripts/daemon-bundle.mjs), and that its text is ASCII, so V8 holds it one byte a character.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { build, transform } from "esbuild";
import { describe, expect, it } from "vitest";
import { asciiComments, daemonStubs } from "../../../scripts/daemon-bundle.mjs";
import { REPO_ROOT, WMD_BIN } from "../../testing/src/repo-root.ts";

const DAEMON_SRC = path.join(REPO_ROOT, "packages/daemon/src");
const NON_ASCII = /[\u0080-\uffff]/;

/** Packages the daemon never runs: ssh:// engine hosts, and BuildKit sessions and output. */
const LEFT_OUT = ["ssh2", "cpu-features", "@grpc/grpc-js", "@grpc/proto-loader", "protobufjs"];

/** `entry` (from packages/daemon/src) bundled as the daemon is, in memory. */
async function bundle(entry: { path: string } | { contents: string }, format: "esm" | "cjs") {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    ...("path" in entry
      ? { entryPoints: [entry.path] }
      : { stdin: { contents: entry.contents, resolveDir: DAEMON_SRC, loader: "js" } }),
    bundle: true,
    platform: "node",
    target: "node20",
    format,
    legalComments: "none",
    external: ["*.node", "@lydell/node-pty"],
    plugins: [daemonStubs()],
    write: false,
    outdir: path.join(os.tmpdir(), "wm-daemon-bundle"),
    logLevel: "silent",
  });
  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  if (!js) throw new Error("esbuild wrote no .js file");
  return js.text;
}

const runNode = (file: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, [file], { env, encoding: "utf8" }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });

describe("the daemon bundle", () => {
  it("carries none of ssh2, gRPC or protobufjs; dockerode and the stubs stand in their place", async () => {
    const text = await fs.readFile(WMD_BIN, "utf8");
    // esbuild names each module it bundles in a comment: the control that those names are there.
    const present = [
      "/node_modules/dockerode/lib/docker.js",
      "/node_modules/docker-modem/lib/modem.js",
      "is not supported by wm: it talks to Docker over a Unix socket only",
      "BuildKit builds (buildImage version",
      "docker.followProgress (BuildKit decoding) is not part of the wm daemon",
    ];
    expect(present.filter((s) => !text.includes(s))).toEqual([]);
    expect(LEFT_OUT.filter((p) => text.includes(`/node_modules/${p}/`))).toEqual([]);
  });

  it("is ASCII only", async () => {
    const text = await fs.readFile(WMD_BIN, "utf8");
    const at = text.search(NON_ASCII);
    expect(at === -1 ? "" : text.slice(Math.max(0, at - 60), at + 20)).toBe("");
  });

  it("is made ASCII in comments only: the code esbuild wrote is unchanged", async () => {
    const text = await bundle({ path: "packages/daemon/src/bin/wmd.ts" }, "esm");
    expect(text).toMatch(NON_ASCII);
    const ascii = asciiComments(text);
    expect(ascii.length).toBe(text.length);
    const code = async (t: string) =>
      (await transform(t, { minifyWhitespace: true, legalComments: "none", format: "esm" })).code;
    expect(await code(ascii)).toBe(await code(text));
  });

  it("through dockerode, an ssh:// DOCKER_HOST and a BuildKit build fail with the reason", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-bundle-"));
    try {
      const file = path.join(dir, "engine-call.cjs");
      await fs.writeFile(
        file,
        await bundle(
          {
            contents: `
              const Docker = require("dockerode");
              const { Readable } = require("node:stream");
              const docker = new Docker(); // docker-modem reads DOCKER_HOST
              const failed = (p) => p.then(() => "answered", (e) => e.message);
              (async () => {
                const version = await failed(docker.version());
                const build = await failed(docker.buildImage(Readable.from([]), { version: "2" }));
                console.log(JSON.stringify({ version, build }));
              })();`,
          },
          "cjs",
        ),
      );
      const run = await runNode(file, {
        PATH: process.env.PATH,
        DOCKER_HOST: "ssh://nobody@127.0.0.1:1",
      });
      expect(JSON.parse(run.stdout)).toEqual({
        version:
          "DOCKER_HOST=ssh://nobody@127.0.0.1:1 is not supported by wm: it talks to Docker over a Unix socket only (unset DOCKER_HOST or set it to unix:///var/run/docker.sock)",
        build:
          'BuildKit builds (buildImage version "2") are not part of the wm daemon; it builds with the classic builder (version "1")',
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("stops the build when a stub meets no module", async () => {
    await expect(bundle({ contents: "export {};" }, "esm")).rejects.toThrow(
      /no module matched .*docker-modem-ssh\.cjs; update scripts\/daemon-bundle\.mjs so that the daemon leaves out ssh2$/m,
    );
  });
});
