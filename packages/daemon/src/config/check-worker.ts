// Entry of the config check worker, bundled as dist/config-check-worker.js (see worker-entry.ts).
import { parentPort } from "node:worker_threads";
import { type CheckReply, type CheckRequest, checkConfigText } from "./check-text.ts";

const port = parentPort;
if (!port) throw new Error("config-check-worker runs as a worker thread");
port.on("message", ({ file, text, role }: CheckRequest) => {
  let reply: CheckReply;
  try {
    reply = { ok: true, checked: checkConfigText(file, text, role) };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies CheckReply);
