import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** One container event as the engine's `events` stream reports it. */
export interface EngineEvent {
  /** create, start, die, destroy (Podman's "remove"), … */
  action: string;
  id: string;
  /** The container's labels (and the engine's own attributes: name, image). */
  attributes: Record<string, string>;
}

export interface EngineEvents {
  /** Resolves with the first event, seen or still to come, that `matches`. */
  next(matches: (e: EngineEvent) => boolean, what: string): Promise<EngineEvent>;
  /** Every event seen so far. */
  seen(): readonly EngineEvent[];
  close(): void;
}

/**
 * Follows the container events of `runtime` carrying `label` (`key=value`), from the moment this
 * is called: `--since` replays any that happened while the stream was being opened, so nothing
 * between this call and the first line is missed; a stream that ends is followed on from the
 * last event seen. Podman's are read through its Docker-compatible
 * API (the daemon's view), as its own `events` command depends on how events are logged.
 */
export function watchEngineEvents(runtime: "docker" | "podman", label: string): EngineEvents {
  const host =
    runtime === "podman"
      ? ["-H", `unix://${process.env.WM_PODMAN_SOCKET || "/run/podman/podman.sock"}`]
      : [];
  const events: EngineEvent[] = [];
  const keys = new Set<string>();
  const waiters: {
    matches: (e: EngineEvent) => boolean;
    resolve(e: EngineEvent): void;
    reject(err: Error): void;
    what: string;
  }[] = [];
  let since = Math.floor(Date.now() / 1000) - 1;
  let closed = false;
  let restarts = 0;
  let child: ChildProcess;

  const onLine = (line: string) => {
    const raw = JSON.parse(line) as {
      Action?: string;
      status?: string;
      id?: string;
      time?: number;
      timeNano?: number;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    const action = raw.Action ?? raw.status ?? "";
    const event: EngineEvent = {
      // Podman says "remove" where Docker says "destroy".
      action: action === "remove" ? "destroy" : action,
      id: raw.Actor?.ID ?? raw.id ?? "",
      attributes: raw.Actor?.Attributes ?? {},
    };
    // A restarted stream replays from the last second seen: each event counts once.
    const key = `${raw.timeNano ?? raw.time}|${event.id}|${event.action}`;
    if (keys.has(key)) return;
    keys.add(key);
    if (raw.time !== undefined) since = raw.time;
    events.push(event);
    for (const w of [...waiters]) {
      if (!w.matches(event)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  };

  const follow = () => {
    let stderr = "";
    child = spawn(
      "docker",
      [
        ...host,
        "events",
        "--since",
        String(since),
        "--filter",
        "type=container",
        "--filter",
        `label=${label}`,
        "--format",
        "{{json .}}",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
    child.once("close", () => {
      if (closed) return;
      // Podman's stream ends when its events file is rotated: follow on from where it was.
      if (restarts++ < 20) return follow();
      for (const w of waiters.splice(0))
        w.reject(
          new Error(`${runtime} events ended before ${w.what}: ${stderr.trim() || "no output"}`),
        );
    });
  };
  follow();

  return {
    next(matches, what) {
      const found = events.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => waiters.push({ matches, resolve, reject, what }));
    },
    seen: () => events,
    close: () => {
      closed = true;
      child.kill();
    },
  };
}
