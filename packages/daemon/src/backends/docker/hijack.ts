import http from "node:http";
import type { Duplex } from "node:stream";

/**
 * POSTs to `path` asking the engine to upgrade the connection, and resolves with the raw
 * socket. Unlike docker-modem it sends no body: Podman would read a body as stdin.
 */
export function hijack(socketPath: string, path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath,
      path,
      method: "POST",
      headers: { Connection: "Upgrade", Upgrade: "tcp", "Content-Length": "0" },
    });
    req.on("upgrade", (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown = text;
        try {
          json = JSON.parse(text);
        } catch {}
        const err = new Error(`(HTTP code ${res.statusCode}) - ${text.trim()}`);
        Object.assign(err, { statusCode: res.statusCode, json });
        reject(err);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

export function attachPath(id: string, stdin: boolean, detachKeys: string): string {
  const q = new URLSearchParams({
    stream: "1",
    stdin: stdin ? "1" : "0",
    stdout: "1",
    stderr: "1",
    detachKeys,
  });
  return `/containers/${encodeURIComponent(id)}/attach?${q.toString()}`;
}
