import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

type Env = Readonly<Record<string, string | undefined>>;

/** Where fetched agent packages are kept: $XDG_CACHE_HOME/wm/agents (~/.cache by default). */
export function agentCacheDir(env: Env, homedir: string): string {
  const cache = env.XDG_CACHE_HOME || path.join(homedir, ".cache");
  return path.join(cache, "wm", "agents");
}

/** The npm package carrying Claude Code's native Linux binary for a Node-style arch name. */
export function claudePackageName(arch: string): string {
  const cpu = arch === "x64" || arch === "amd64" ? "x64" : arch === "arm64" ? "arm64" : undefined;
  if (!cpu) throw new Error(`Claude Code has no Linux build for the ${arch} architecture`);
  return `@anthropic-ai/claude-code-linux-${cpu}`;
}

function tarballPrefix(pkg: string): string {
  return `${pkg.replace(/^@/, "").replace("/", "-")}-`;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function cached(cacheDir: string, pkg: string, version?: string) {
  const prefix = tarballPrefix(pkg);
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const found = names
    .filter((n) => n.startsWith(prefix) && n.endsWith(".tgz"))
    .map((n) => ({ file: path.join(cacheDir, n), version: n.slice(prefix.length, -".tgz".length) }))
    .filter((c) => /^\d/.test(c.version) && (version === undefined || c.version === version))
    .sort((x, y) => compareVersions(y.version, x.version));
  return found[0];
}

export interface ClaudePackage {
  tarball: string;
  version: string;
  fetched: boolean;
}

/**
 * The Claude Code package tarball: the newest one in the cache (or `version`), else
 * `npm pack` from the registry into the cache. `refresh` always asks the registry.
 */
export async function fetchClaudePackage(opts: {
  cacheDir: string;
  arch: string;
  env: Env;
  version?: string | undefined;
  refresh?: boolean | undefined;
  onLine?: ((line: string) => void) | undefined;
}): Promise<ClaudePackage> {
  const pkg = claudePackageName(opts.arch);
  const hit = opts.refresh ? undefined : await cached(opts.cacheDir, pkg, opts.version);
  if (hit) {
    opts.onLine?.(`using cached ${pkg}@${hit.version} (${hit.file})`);
    return { tarball: hit.file, version: hit.version, fetched: false };
  }
  const spec = `${pkg}@${opts.version ?? "latest"}`;
  opts.onLine?.(`fetching ${spec} with npm pack (about 175 MB) into ${opts.cacheDir}`);
  await mkdir(opts.cacheDir, { recursive: true });
  const tmp = await mkdtemp(path.join(opts.cacheDir, ".pack-"));
  try {
    const { stdout } = await run("npm", ["pack", spec, "--json", "--pack-destination", tmp], {
      cwd: tmp,
      env: { ...opts.env } as NodeJS.ProcessEnv,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
      if (err.code === "ENOENT")
        throw new Error("npm is needed to fetch Claude Code; install Node.js with npm");
      const tail = (err.stderr ?? "").trim().split("\n").slice(-5).join("\n");
      throw new Error(`npm pack ${spec} failed: ${tail || err.message}`);
    });
    const start = stdout.indexOf("[");
    const [info] = JSON.parse(stdout.slice(start)) as { filename: string; version: string }[];
    if (!info) throw new Error(`npm pack ${spec} reported no tarball`);
    const tarball = path.join(opts.cacheDir, path.basename(info.filename));
    await rename(path.join(tmp, path.basename(info.filename)), tarball);
    return { tarball, version: info.version, fetched: true };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Extracts the package's `claude` binary into `dir`; returns its path. */
export async function extractClaudeBinary(tarball: string, dir: string): Promise<string> {
  await run("tar", ["-xzf", tarball, "-C", dir, "package/claude"]).catch(
    (err: Error & { stderr?: string }) => {
      throw new Error(
        `cannot extract claude from ${tarball}: ${(err.stderr ?? err.message).trim()}`,
      );
    },
  );
  const binary = path.join(dir, "package", "claude");
  const { size } = await stat(binary);
  if (size === 0) throw new Error(`${tarball} holds an empty claude binary`);
  return binary;
}
