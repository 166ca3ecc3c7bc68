import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSandboxImage } from "../src/images/build-sandbox-image.ts";
import { checkImage } from "../src/images/check-image.ts";
import { initDockerfile } from "../src/images/init-dockerfile.ts";
import { packContext } from "../src/images/tar-pack.ts";
import { BASE, containerFixture } from "./container-fixture.ts";

const f = containerFixture("docker", "images");
const { backend } = f;
const ok = `wm-sandbox:wmtest-${f.tag}`;
const noop = () => {};

function build(tag: string, dockerfile: string, labels: Record<string, string> = {}) {
  const context = packContext([{ name: "Dockerfile", mode: 0o644, data: dockerfile }]);
  return backend.buildImage(context, { tag, labels: { ...f.labels, ...labels }, onProgress: noop });
}

beforeAll(async () => {
  await f.setup();
  await buildSandboxImage({
    backend,
    agent: "none",
    tag: ok,
    extraLabels: f.labels,
    onProgress: noop,
  });
}, 300_000);
afterAll(() => f.cleanup());

describe("checkImage", () => {
  it("ok for a current image, missing with the build command, stale for another version", async () => {
    const current = await checkImage(backend, ok);
    expect(current).toMatchObject({
      state: "ok",
      detail: expect.stringContaining("image version 1"),
    });
    expect(current.fix).toBeUndefined();
    const absent = `${ok}-absent`;
    expect(await checkImage(backend, absent)).toEqual({
      state: "missing",
      detail: `${absent} does not exist`,
      fix: `wm sandbox build --agent wmtest-${f.tag}-absent`,
    });
    const stale = `${ok}-old`;
    await build(stale, `FROM ${ok}\n`, { "wm.image.version": "0" });
    expect(await checkImage(backend, stale)).toEqual({
      state: "stale",
      detail: `${stale} is out of date: it has image version 0, this wm builds version 1`,
      fix: `wm sandbox build --agent wmtest-${f.tag}-old`,
    });
    const otherProtocol = `${ok}-proto`;
    await build(otherProtocol, `FROM ${ok}\n`, { "wm.protocol": "0" });
    expect((await checkImage(backend, otherProtocol)).detail).toContain("built for protocol 0");
  });

  it("points at the base image script when the base is what is missing", async () => {
    const base = "wm-base:wmtest-nope";
    const check = await checkImage(backend, "wm-sandbox:wmtest-nobase", { base });
    expect(check.state).toBe("missing");
    expect(check.fix).toBe(
      `sudo bash scripts/build-base-image.sh --name ${base} && wm sandbox build --agent wmtest-nobase`,
    );
    expect(await checkImage(backend, BASE)).toMatchObject({ state: "ok" });
    expect((await checkImage(backend, base)).fix).toBe(
      `sudo bash scripts/build-base-image.sh --name ${base}`,
    );
  });

  it("accepts a custom image from initDockerfile, and warns when one lacks wm labels", async () => {
    const dir = path.join(f.tmp, "custom");
    await mkdir(dir);
    const { file } = await initDockerfile(dir, { agent: "none" });
    const text = await readFile(file, "utf8");
    expect(text).toMatch(/^FROM wm-sandbox:none$/m);
    expect(text).toContain("# RUN apt-get update");
    await expect(initDockerfile(dir, { agent: "none" })).rejects.toThrow("already exists");
    await initDockerfile(dir, { agent: "demo", force: true });
    expect(await readFile(file, "utf8")).toMatch(/^FROM wm-sandbox:demo$/m);
    await expect(initDockerfile(dir, { agent: "vim" })).rejects.toThrow("unknown agent");
    await expect(initDockerfile(path.join(dir, "nope"), { agent: "none" })).rejects.toThrow(
      "does not exist",
    );

    const custom = `wm-test-${f.tag}:custom`;
    await build(custom, text.replace(/^FROM .*$/m, `FROM ${ok}`));
    const good = await checkImage(backend, custom);
    expect(good.state).toBe("ok");
    expect(good.warning).toBeUndefined();

    const bare = `wm-test-${f.tag}:bare`;
    await build(bare, `FROM ${BASE}\n`);
    const warned = await checkImage(backend, bare);
    expect(warned.state).toBe("ok");
    expect(warned.warning).toContain("has no wm labels");

    const onOld = `wm-test-${f.tag}:on-old`;
    await build(onOld, `FROM ${BASE}\n`, {
      "wm.image": "sandbox",
      "wm.agent": "none",
      "wm.image.version": "0",
    });
    expect(await checkImage(backend, onOld)).toMatchObject({
      state: "ok",
      warning: expect.stringContaining("out-of-date wm-sandbox:none"),
    });
    expect(await checkImage(backend, `wm-test-${f.tag}:nothing`)).toMatchObject({
      state: "missing",
    });
  });
});
