import { type AddressInfo, createServer } from "node:net";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_HELLO_BYTES, readClientHello } from "./client-hello.ts";

const server = createServer();
const hellos = new Map<string, Buffer>();

/** The ClientHello Node's TLS client really sends, captured by a plain TCP server. */
function captureHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    server.once("connection", (socket) => {
      let data = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (readClientHello(data).kind !== "incomplete") {
          socket.destroy();
          resolve(data);
        }
      });
    });
    const { port } = server.address() as AddressInfo;
    const client = connect({ host: "127.0.0.1", port, ...(servername ? { servername } : {}) });
    client.on("error", () => undefined);
    client.on("close", () => reject(new Error("closed before a hello was read")));
  });
}

/** Handshake bytes cut into TLS records of at most `size` bytes. */
function records(body: Buffer, size: number): Buffer {
  const records: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) {
    const part = body.subarray(at, at + size);
    const header = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    records.push(header, part);
  }
  return Buffer.concat(records);
}

/** A one-record hello re-cut into records of at most `size` bytes. */
function recut(hello: Buffer, size: number): Buffer {
  return records(hello.subarray(5, 5 + hello.readUInt16BE(3)), size);
}

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hellos.set("named", await captureHello("allowed.test"));
  hellos.set("anonymous", await captureHello(undefined));
});
afterAll(() => server.close());

describe("readClientHello", () => {
  it("reads the server name from a real ClientHello", () => {
    expect(readClientHello(hellos.get("named") as Buffer)).toEqual({
      kind: "hello",
      serverName: "allowed.test",
    });
  });

  it("a hello without SNI has no server name", () => {
    expect(readClientHello(hellos.get("anonymous") as Buffer)).toEqual({
      kind: "hello",
      serverName: undefined,
    });
  });

  it("is incomplete until the last byte arrives", () => {
    const hello = hellos.get("named") as Buffer;
    for (const cut of [1, 3, 5, 9, hello.length - 1]) {
      expect(readClientHello(hello.subarray(0, cut))).toEqual({ kind: "incomplete" });
    }
  });

  it("reads a hello split across several records", () => {
    const split = recut(hellos.get("named") as Buffer, 100);
    expect(split.length).toBeGreaterThan((hellos.get("named") as Buffer).length);
    expect(readClientHello(split)).toEqual({ kind: "hello", serverName: "allowed.test" });
    expect(readClientHello(split.subarray(0, split.length - 1))).toEqual({ kind: "incomplete" });
  });

  it("plain text is not TLS", () => {
    expect(readClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toEqual({ kind: "not-tls" });
    expect(readClientHello(Buffer.from([0x16, 0x01]))).toEqual({ kind: "not-tls" });
  });

  it("refuses a hello whose server name length runs past its extension", () => {
    const hello = Buffer.from(hellos.get("named") as Buffer);
    const at = hello.indexOf(Buffer.from("allowed.test"));
    hello.writeUInt16BE(200, at - 2);
    expect(readClientHello(hello)).toEqual({
      kind: "malformed",
      reason: "a truncated ClientHello",
    });
  });

  it("refuses a server name that is not a host name", () => {
    const hello = Buffer.from(hellos.get("named") as Buffer);
    hello.write("allowed/test", hello.indexOf(Buffer.from("allowed.test")), "latin1");
    expect(readClientHello(hello)).toEqual({
      kind: "malformed",
      reason: "a server name that is not a host name",
    });
  });

  it("refuses other records inside the hello, and a hello that never ends", () => {
    const split = recut(hellos.get("named") as Buffer, 100);
    split[105] = 0x17; // the second record claims to be application data
    expect(readClientHello(split)).toEqual({
      kind: "malformed",
      reason: "a non-handshake record inside the ClientHello",
    });
    const huge = Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x00, 0x01]);
    expect(readClientHello(huge)).toEqual({
      kind: "malformed",
      reason: "a ClientHello of 65537 bytes",
    });
    // 60000 bytes in 10-byte records: half again as much on the wire, cut at MAX_HELLO_BYTES.
    const header = Buffer.from([0x01, 0x00, 0xea, 0x60]);
    const slow = records(Buffer.concat([header, Buffer.alloc(60000)]), 10);
    expect(readClientHello(slow.subarray(0, MAX_HELLO_BYTES - 1))).toEqual({ kind: "incomplete" });
    expect(readClientHello(slow.subarray(0, MAX_HELLO_BYTES))).toEqual({
      kind: "malformed",
      reason: `no complete ClientHello in ${MAX_HELLO_BYTES} bytes`,
    });
  });
});
