import net from "node:net";

/**
 * One HTTP/1.1 request on a fresh connection (`connection: close`), the answer read to its
 * end. Written on `node:net` rather than `node:http`: the shim makes one call per process, and
 * loading and warming Node's HTTP client costs more than the call itself.
 */
export interface OnceRequest {
  target: { socketPath: string } | { host: string; port: number };
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface OnceResponse {
  status: number;
  body: string;
}

/** The connection failed or ended early; `code` is the socket error's (ECONNREFUSED, …). */
export class OnceError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const SEPARATOR = Buffer.from("\r\n\r\n");

/** Chunked transfer coding decoded; undefined while the last chunk has not arrived. */
function unchunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size)) throw new OnceError("the answer's chunked body is malformed");
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * The response in `data` once it is complete; undefined while more is needed. `ended`: the
 * peer closed, so a body without length runs to here.
 */
export function parseResponse(data: Buffer, ended: boolean): OnceResponse | undefined {
  const head = data.indexOf(SEPARATOR);
  if (head < 0) {
    if (ended) throw new OnceError("the connection closed before an answer arrived");
    return undefined;
  }
  const [statusLine = "", ...lines] = data.subarray(0, head).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (!status) throw new OnceError(`the answer is not HTTP (${JSON.stringify(statusLine)})`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const rest = data.subarray(head + SEPARATOR.length);
  let body: Buffer | undefined;
  if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) body = unchunk(rest);
  else if (headers.has("content-length")) {
    const length = Number(headers.get("content-length"));
    if (!Number.isInteger(length) || length < 0)
      throw new OnceError("the answer's content-length is malformed");
    if (rest.length >= length) body = rest.subarray(0, length);
  } else if (status === "204" || status === "304") body = Buffer.alloc(0);
  else if (ended) body = rest;
  if (body) return { status: Number(status), body: body.toString("utf8") };
  if (ended) throw new OnceError("the connection closed in the middle of the answer");
  return undefined;
}

function requestText(req: OnceRequest): string {
  const lines = [`${req.method} ${req.path} HTTP/1.1`];
  const headers = { ...req.headers, "content-length": String(Buffer.byteLength(req.body)) };
  for (const [name, value] of Object.entries({ ...headers, connection: "close" })) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value))
      throw new OnceError(`header ${name} holds a line break`);
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n${req.body}`;
}

export function requestOnce(req: OnceRequest): Promise<OnceResponse> {
  return new Promise((resolve, reject) => {
    const text = requestText(req);
    const socket =
      "socketPath" in req.target
        ? net.connect(req.target.socketPath)
        : net.connect(req.target.port, req.target.host);
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (ended: boolean) => {
      if (settled) return;
      try {
        const res = parseResponse(Buffer.concat(chunks), ended);
        if (!res) return;
        settled = true;
        resolve(res);
      } catch (err) {
        settled = true;
        reject(err);
      }
      // The answer is whole: nothing more is read, nothing keeps this process waiting.
      socket.destroy();
    };
    socket.setTimeout(req.timeoutMs, () => {
      settled = true;
      socket.destroy();
      reject(new OnceError(`no answer within ${req.timeoutMs / 1000} s`, "ETIMEDOUT"));
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      settle(false);
    });
    socket.on("end", () => settle(true));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      reject(new OnceError(err.message, err.code));
    });
    socket.on("close", () => settle(true));
    // Not `end`: a server that sees the request's side close first drops the request.
    socket.write(text);
  });
}
