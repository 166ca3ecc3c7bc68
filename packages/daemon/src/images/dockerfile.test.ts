import { readFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT } from "@wm/testing";
import { describe, expect, it } from "vitest";
import { renderDockerfile } from "./dockerfile.ts";
import {
  agentNameOf,
  BASE_IMAGE_VERSION,
  sandboxImageFor,
  sandboxImageLabels,
  sandboxImageName,
} from "./image-labels.ts";

describe("renderDockerfile", () => {
  it("sets up what the shim and a host UID need, then the agent layer", () => {
    const text = renderDockerfile({ agent: "claude" });
    expect(text).toMatch(/^FROM wm-base:bookworm$/m);
    expect(text).toContain("WM_SANDBOX_GUEST=1");
    expect(text).toContain("HOME=/home/agent");
    expect(text).toMatch(/PATH=\/opt\/wm\/bin:/);
    expect(text).toContain("chmod 1777 /home/agent");
    expect(text).toContain("git config --system safe.directory '*'");
    expect(text).toContain("COPY claude /usr/local/bin/claude");
    expect(text).toMatch(/^CMD \["claude"\]$/m);
    expect(text).not.toMatch(/COPY .*\/opt\/wm/);
  });

  it("honours another base and knows demo and none", () => {
    expect(renderDockerfile({ agent: "demo", base: "my/base:1" })).toMatch(/^FROM my\/base:1$/m);
    expect(renderDockerfile({ agent: "demo" })).toContain("COPY wm-demo-agent");
    expect(renderDockerfile({ agent: "none" })).not.toContain("COPY");
  });

  it("names the known agents when given another", () => {
    expect(() => renderDockerfile({ agent: "codex" })).toThrow(
      'unknown agent "codex"; known agents: claude, demo, none',
    );
    expect(() => renderDockerfile({ agent: "none", base: "x\nRUN evil" })).toThrow("image name");
  });
});

describe("image names and labels", () => {
  it("one name for the image of an agent, however the agent is written", () => {
    const cfg = (agent: string, image?: string) => ({ agent, sandbox: { image } });
    expect(sandboxImageFor(cfg("claude"))).toBe("wm-sandbox:claude");
    expect(sandboxImageFor(cfg("/usr/local/bin/claude --model opus"))).toBe("wm-sandbox:claude");
    expect(sandboxImageFor(cfg("  demo  --fast"))).toBe("wm-sandbox:demo");
    expect(sandboxImageFor(cfg("claude", "mine:1"))).toBe("mine:1");
    expect(sandboxImageFor(cfg("claude", "mine:1"), "/opt/demo -x")).toBe("wm-sandbox:demo");
    expect(agentNameOf("/usr/local/bin/claude --model opus")).toBe("claude");
  });

  it("labels say what the image is and what built it", () => {
    expect(sandboxImageName("claude")).toBe("wm-sandbox:claude");
    expect(sandboxImageLabels("demo", { "wm.image": "other", extra: "1" })).toMatchObject({
      extra: "1",
      "wm.image": "sandbox",
      "wm.agent": "demo",
      "wm.image.version": "1",
      "wm.protocol": "1",
      "wm.version": expect.any(String),
    });
  });
});

it("expects the base version scripts/build-base-image.sh builds", async () => {
  const script = await readFile(path.join(REPO_ROOT, "scripts/build-base-image.sh"), "utf8");
  expect(/^BASE_VERSION=(\d+)$/m.exec(script)?.[1]).toBe(String(BASE_IMAGE_VERSION));
});
