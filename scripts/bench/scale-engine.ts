// The engine alone, for the scale suite's baseline: plain containers created and started over
// the Docker Engine API (the API the daemon's dockerode uses), with no wm in the way.
import http from "node:http";

const SOCKET = process.env.DOCKER_HOST?.startsWith("unix://")
  ? process.env.DOCKER_HOST.slice("unix://".length)
  : "/var/run/docker.sock";

/** An engine that has not answered in this long is taken as stuck: the run fails, not hangs. */
const ENGINE_TIMEOUT_MS = 120_000;

function engine(method: string, path: string, body?: unknown): Promise<unknown> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: SOCKET,
        method,
        path,
        timeout: ENGINE_TIMEOUT_MS,
        headers: data
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () =>
          (res.statusCode ?? 500) < 300
            ? resolve(text ? JSON.parse(text) : undefined)
            : reject(new Error(`${method} ${path}: ${res.statusCode} ${text.trim()}`)),
        );
      },
    );
    req.on("timeout", () =>
      req.destroy(
        new Error(`${method} ${path}: the engine did not answer in ${ENGINE_TIMEOUT_MS / 1000} s`),
      ),
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** Runs `fn(0…n-1)` with at most `limit` running at once. */
export async function inPool<T>(
  n: number,
  limit: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, limit) }, worker));
  return out;
}

/** `n` plain containers of `image` running `cmd`, labelled `label`; each one's create+start ms. */
export async function startPlainContainers(opts: {
  n: number;
  concurrency: number;
  image: string;
  cmd: string[];
  label: Record<string, string>;
}): Promise<{ ms: number[]; wallMs: number }> {
  const t0 = performance.now();
  const ms = await inPool(opts.n, opts.concurrency, async () => {
    const t = performance.now();
    const created = (await engine("POST", "/containers/create", {
      Image: opts.image,
      Cmd: opts.cmd,
      Labels: opts.label,
      HostConfig: { Init: true },
    })) as { Id: string };
    await engine("POST", `/containers/${created.Id}/start`);
    return performance.now() - t;
  });
  return { ms, wallMs: performance.now() - t0 };
}

/** Ids of every container (running or not) carrying all of `labels`. */
export async function containersLabelled(labels: Record<string, string>): Promise<string[]> {
  const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  const rows = (await engine(
    "GET",
    `/containers/json?all=1&filters=${encodeURIComponent(filters)}`,
  )) as { Id: string }[];
  return rows.map((r) => r.Id);
}

export async function removeContainers(ids: readonly string[], concurrency = 8): Promise<void> {
  await inPool(ids.length, concurrency, (i) =>
    engine("DELETE", `/containers/${ids[i]}?force=1&v=1`).catch(() => undefined),
  );
}
