import { describe, expect, it } from "vitest";
import { MalformedResponseError, parseResponse } from "./http-response.ts";

const bytes = (s: string) => Buffer.from(s, "utf8");
const head = (...lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

describe("parseResponse", () => {
  it("reads a body framed by content-length, and waits for all of it", () => {
    const full = `${head("HTTP/1.1 200 OK", "Content-Type: application/json", "content-length: 11")}{"ok":true}`;
    for (let cut = 0; cut < full.length; cut++)
      expect(parseResponse(bytes(full.slice(0, cut)), false), `cut at ${cut}`).toBeUndefined();
    const r = parseResponse(bytes(full), false);
    expect(r?.status).toBe(200);
    expect(r?.body.toString()).toBe('{"ok":true}');
    expect(r?.close).toBe(false);
  });

  it("counts content-length in bytes, not characters", () => {
    const body = '{"name":"café ✓"}';
    const r = parseResponse(
      bytes(`${head("HTTP/1.1 200 OK", `content-length: ${Buffer.byteLength(body)}`)}${body}`),
      false,
    );
    expect(r?.body.toString("utf8")).toBe(body);
  });

  it("reads a chunked body, with chunk extensions and trailers, split anywhere", () => {
    const full = `${head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked")}5;x=y\r\n{"a":\r\n4\r\n1234\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    for (let cut = 0; cut < full.length; cut++)
      expect(parseResponse(bytes(full.slice(0, cut)), false), `cut at ${cut}`).toBeUndefined();
    expect(parseResponse(bytes(full), false)?.body.toString()).toBe('{"a":1234}');
    const plain = `${head("HTTP/1.1 200 OK", "transfer-encoding: chunked")}2\r\n{}\r\n0\r\n\r\n`;
    expect(parseResponse(bytes(plain), false)?.body.toString()).toBe("{}");
  });

  it("reads a body that ends with the connection only once it has ended", () => {
    const text = `${head("HTTP/1.1 200 OK", "Connection: close")}{"x":1}`;
    expect(parseResponse(bytes(text), false)).toBeUndefined();
    const r = parseResponse(bytes(text), true);
    expect(r?.body.toString()).toBe('{"x":1}');
    expect(r?.close).toBe(true);
  });

  it("says when the server closes the connection after the response", () => {
    const closing = head("HTTP/1.1 200 OK", "Connection: close", "Content-Length: 0");
    expect(parseResponse(bytes(closing), false)?.close).toBe(true);
    const http10 = head("HTTP/1.0 200 OK", "Content-Length: 0");
    expect(parseResponse(bytes(http10), false)?.close).toBe(true);
    const kept = head("HTTP/1.0 200 OK", "Connection: keep-alive", "Content-Length: 0");
    expect(parseResponse(bytes(kept), false)?.close).toBe(false);
  });

  it("skips 100 Continue, and gives the status of error answers with their body", () => {
    const text = `${head("HTTP/1.1 100 Continue")}${head("HTTP/1.1 413 Payload Too Large", "content-length: 2")}{}`;
    const r = parseResponse(bytes(text), false);
    expect(r?.status).toBe(413);
    expect(r?.body.toString()).toBe("{}");
    expect(parseResponse(bytes(head("HTTP/1.1 204 No Content")), false)?.body.length).toBe(0);
  });

  it("refuses what is not an HTTP/1.x response, naming the part", () => {
    const bad = (text: string) => () => parseResponse(bytes(text), true);
    expect(bad(head("SSH-2.0-OpenSSH"))).toThrow(/status line "SSH-2.0-OpenSSH"/);
    expect(bad(head("HTTP/1.1 200 OK", "no colon here"))).toThrow(/header line "no colon here"/);
    expect(bad(`${head("HTTP/1.1 200 OK", "content-length: -1")}`)).toThrow(/content-length "-1"/);
    expect(bad(`${head("HTTP/1.1 200 OK", "transfer-encoding: gzip")}`)).toThrow(
      /transfer-encoding/,
    );
    expect(bad(`${head("HTTP/1.1 200 OK", "transfer-encoding: chunked")}zz\r\n`)).toThrow(
      /chunk size "zz"/,
    );
    expect(
      bad(`${head("HTTP/1.1 200 OK", "transfer-encoding: chunked")}2\r\n{}XX0\r\n\r\n`),
    ).toThrow(/chunk not followed by CRLF/);
    expect(bad("x".repeat(70_000))).toThrow(MalformedResponseError);
  });
});
