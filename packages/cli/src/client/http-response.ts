/**
 * Reads one HTTP/1.1 response from the bytes received so far: the status line, the headers and
 * a body framed by Content-Length, by chunked transfer coding, or by the end of the connection.
 * Enough for the daemon's `POST /rpc` answers, which the CLI reads on a plain `net` socket
 * (see docs/performance.md: loading `node:http` cost a one-shot `wm` more than the call).
 */
export interface HttpResponse {
  status: number;
  body: Buffer;
  /** The server closes the connection after this response: it cannot carry another request. */
  close: boolean;
}

export class MalformedResponseError extends Error {
  constructor(reason: string) {
    super(`the daemon's HTTP answer is malformed: ${reason}`);
    this.name = "MalformedResponseError";
  }
}

const CRLF = "\r\n";
const MAX_HEAD_BYTES = 64 * 1024;

interface Head {
  status: number;
  headers: Map<string, string>;
  minor: number;
  /** Where the body starts. */
  end: number;
}

function readHead(buf: Buffer, from: number): Head | undefined {
  const end = buf.indexOf(`${CRLF}${CRLF}`, from, "latin1");
  if (end < 0) {
    if (buf.length - from > MAX_HEAD_BYTES) throw new MalformedResponseError("headers too long");
    return undefined;
  }
  const [statusLine = "", ...lines] = buf.toString("latin1", from, end).split(CRLF);
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
  if (!m)
    throw new MalformedResponseError(`status line ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0)
      throw new MalformedResponseError(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return { status: Number(m[2]), headers, minor: Number(m[1]), end: end + 4 };
}

/** The body of a chunked response starting at `from`, or undefined while bytes are missing. */
function readChunked(buf: Buffer, from: number): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at, "latin1");
    if (lineEnd < 0) return undefined;
    const sizeText = buf.toString("latin1", at, lineEnd).split(";")[0]?.trim() ?? "";
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
      throw new MalformedResponseError(`chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = Number.parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Optional trailer fields, then the empty line that ends the message.
      if (buf.length < at + 2) return undefined;
      if (buf.toString("latin1", at, at + 2) !== CRLF && buf.indexOf(`${CRLF}${CRLF}`, at) < 0)
        return undefined;
      return Buffer.concat(parts);
    }
    if (buf.length < at + size + 2) return undefined;
    if (buf.toString("latin1", at + size, at + size + 2) !== CRLF)
      throw new MalformedResponseError("chunk not followed by CRLF");
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * The response in `buf` once it is complete; undefined while more bytes are to come. `ended`:
 * the server has closed its side, so a body framed by the connection's end is complete (and any
 * other incomplete response never will be: the caller reports it cut short).
 */
export function parseResponse(buf: Buffer, ended: boolean): HttpResponse | undefined {
  let from = 0;
  for (;;) {
    const head = readHead(buf, from);
    if (!head) return undefined;
    // 1xx answers (100 Continue) precede the real one; 101 is never asked for.
    if (head.status >= 100 && head.status < 200) {
      from = head.end;
      continue;
    }
    const connection = head.headers.get("connection")?.toLowerCase() ?? "";
    let close =
      head.minor === 0 ? !connection.includes("keep-alive") : connection.includes("close");
    const coding = head.headers.get("transfer-encoding");
    const length = head.headers.get("content-length");
    let body: Buffer | undefined;
    if (coding !== undefined) {
      if (coding.toLowerCase() !== "chunked")
        throw new MalformedResponseError(`transfer-encoding ${JSON.stringify(coding)}`);
      body = readChunked(buf, head.end);
    } else if (head.status === 204 || head.status === 304) {
      body = Buffer.alloc(0);
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length))
        throw new MalformedResponseError(`content-length ${JSON.stringify(length)}`);
      const n = Number(length);
      body = buf.length >= head.end + n ? buf.subarray(head.end, head.end + n) : undefined;
    } else {
      close = true;
      body = ended ? buf.subarray(head.end) : undefined;
    }
    return body && { status: head.status, body, close };
  }
}
