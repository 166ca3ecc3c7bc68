import { spawn } from "node:child_process";
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
 * between this call and the first line is missed. Podman's are read through its Docker-compatible
 * API (the daemon's view), as its own `events` command depends on how events are logged.
 */
export function watchEngineEvents(runtime: "docker" | "podman", label: string): EngineEvents {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const host =
    runtime === "podman"
      ? ["-H", `unix://${process.env.WM_PODMAN_SOCKET || "/run/podman/podman.sock"}`]
      : [];
  const child = spawn(
    "docker",
    [
      ...host,
      "events",
      "--since",
      since,
      "--filter",
      "type=container",
      "--filter",
      `label=${label}`,
      "--format",
      "{{json .}}",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const events: EngineEvent[] = [];
  const waiters: { matches: (e: EngineEvent) => boolean; resolve(e: EngineEvent): void }[] = [];
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const ended = new Promise<void>((resolve) => child.once("close", () => resolve()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    const raw = JSON.parse(line) as {
      Action?: string;
      status?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    const action = raw.Action ?? raw.status ?? "";
    const event: EngineEvent = {
      // Podman says "remove" where Docker says "destroy".
      action: action === "remove" ? "destroy" : action,
      id: raw.Actor?.ID ?? raw.id ?? "",
      attributes: raw.Actor?.Attributes ?? {},
    };
    events.push(event);
    for (const w of [...waiters]) {
      if (!w.matches(event)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  });
  return {
    next(matches, what) {
      const found = events.find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ matches, resolve });
        void ended.then(() =>
          reject(
            new Error(`${runtime} events ended before ${what}: ${stderr.trim() || "no output"}`),
          ),
        );
      });
    },
    seen: () => events,
    close: () => child.kill(),
  };
}
