import { access, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildProgress, ImageClient } from "../backends/types.ts";
import { type AgentName, assertKnownAgent } from "./agents.ts";
import { agentCacheDir, extractClaudeBinary, fetchClaudePackage } from "./claude-package.ts";
import { renderDockerfile } from "./dockerfile.ts";
import { baseImageFix } from "./fixes.ts";
import {
  BASE_IMAGE_VERSION,
  DEFAULT_BASE_IMAGE,
  LABEL,
  sandboxImageLabels,
  sandboxImageName,
} from "./image-labels.ts";
import { type ContextEntry, packContext } from "./tar-pack.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface BuildSandboxImageOptions {
  backend: ImageClient;
  agent: string;
  /** Image to build FROM; wm-base:bookworm by default. */
  base?: string | undefined;
  /** Defaults to wm-sandbox:<agent>. */
  tag?: string | undefined;
  onProgress(p: BuildProgress): void;
  /** For the claude layer's package cache ($XDG_CACHE_HOME) and npm; process.env by default. */
  env?: Env | undefined;
  homedir?: string | undefined;
  /** Node-style CPU name of the engine's machine; process.arch by default. */
  arch?: string | undefined;
  claudeVersion?: string | undefined;
  /** Ask the registry for the agent package even when one is cached. */
  refresh?: boolean | undefined;
  /** More labels for the image (wm's own labels win on a clash). */
  extraLabels?: Readonly<Record<string, string>> | undefined;
}

export interface BuiltSandboxImage {
  image: string;
  agent: AgentName;
  labels: Record<string, string>;
  seconds: number;
}

/** demo-agent.sh beside this file, or (in the dist/ bundle) in the package sources. */
async function demoAgentScript(): Promise<string> {
  const candidates = [
    new URL("./agents/demo-agent.sh", import.meta.url),
    new URL("./agents/demo-agent.sh", new URL("../packages/daemon/src/images/", import.meta.url)),
  ].map((u) => fileURLToPath(u));
  for (const candidate of candidates) {
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  throw new Error(`demo-agent.sh not found (looked at ${candidates.join(", ")})`);
}

interface AgentFiles {
  entries: ContextEntry[];
  labels: Record<string, string>;
  cleanup(): Promise<void>;
}

async function agentFiles(agent: AgentName, opts: BuildSandboxImageOptions): Promise<AgentFiles> {
  const nothing = async () => {};
  if (agent === "none") return { entries: [], labels: {}, cleanup: nothing };
  if (agent === "demo") {
    const entry = { name: "wm-demo-agent", mode: 0o755, path: await demoAgentScript() };
    return { entries: [entry], labels: {}, cleanup: nothing };
  }
  const env = opts.env ?? process.env;
  const cacheDir = agentCacheDir(env, opts.homedir ?? os.homedir());
  const pkg = await fetchClaudePackage({
    cacheDir,
    arch: opts.arch ?? process.arch,
    env,
    version: opts.claudeVersion,
    refresh: opts.refresh,
    onLine: (line) => opts.onProgress({ line }),
  });
  await mkdir(cacheDir, { recursive: true });
  const dir = await mkdtemp(path.join(cacheDir, ".context-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const binary = await extractClaudeBinary(pkg.tarball, dir);
    return {
      entries: [{ name: "claude", mode: 0o755, path: binary }],
      labels: { [LABEL.agentVersion]: pkg.version },
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Builds wm-sandbox:<agent> FROM the base image, reporting the builder's output line by line. */
export async function buildSandboxImage(
  opts: BuildSandboxImageOptions,
): Promise<BuiltSandboxImage> {
  const started = Date.now();
  const agent = assertKnownAgent(opts.agent);
  const { backend } = opts;
  const base = opts.base ?? DEFAULT_BASE_IMAGE;
  const image = opts.tag ?? sandboxImageName(agent);
  const dockerfile = renderDockerfile({ base, agent });

  const baseInfo = await backend.inspectImage(base);
  if (!baseInfo) {
    throw new Error(
      `${backend.runtime}: cannot build ${image}: its base image ${base} does not exist; build it with \`${baseImageFix(backend.runtime, base)}\``,
    );
  }
  const baseVersion = baseInfo.labels[LABEL.baseVersion];
  if (base === DEFAULT_BASE_IMAGE && baseVersion !== String(BASE_IMAGE_VERSION)) {
    opts.onProgress({
      line: `warning: ${base} has wm.base.version=${baseVersion ?? "(none)"}, this wm expects ${BASE_IMAGE_VERSION}; rebuild it with \`${baseImageFix(backend.runtime, base, true)}\``,
    });
  }

  const files = await agentFiles(agent, opts);
  try {
    const labels = sandboxImageLabels(agent, { ...opts.extraLabels, ...files.labels });
    const context = packContext([
      { name: "Dockerfile", mode: 0o644, data: dockerfile },
      ...files.entries,
    ]);
    await backend.buildImage(context, { tag: image, labels, onProgress: opts.onProgress });
    return { image, agent, labels, seconds: (Date.now() - started) / 1000 };
  } finally {
    await files.cleanup();
  }
}
