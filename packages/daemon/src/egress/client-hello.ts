/**
 * Reads the server name (SNI) from the first bytes a TLS client sends: a ClientHello carried in
 * one or more handshake records (RFC 8446 §4.1.2, RFC 6066 §3). Only what the egress proxy needs:
 * is this TLS, is the hello complete, and which host name does it ask for.
 */
export type ClientHello =
  | { readonly kind: "incomplete" }
  | { readonly kind: "not-tls" }
  | { readonly kind: "malformed"; readonly reason: string }
  | { readonly kind: "hello"; readonly serverName: string | undefined };

/** A ClientHello larger than this is refused (real ones are a few KiB). */
export const MAX_HELLO_BYTES = 64 * 1024;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME = 0x0000;
const HOST_NAME = 0x00;
const MAX_RECORD = 16384 + 2048;

class Truncated extends Error {}

/** A bounds-checked reader over one ClientHello body. */
class Reader {
  private offset = 0;
  constructor(private readonly data: Buffer) {}
  get left(): number {
    return this.data.length - this.offset;
  }
  bytes(n: number): Buffer {
    if (n > this.left) throw new Truncated();
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u8(): number {
    return this.bytes(1).readUInt8(0);
  }
  u16(): number {
    return this.bytes(2).readUInt16BE(0);
  }
  vector(lengthBytes: 1 | 2): Reader {
    return new Reader(this.bytes(lengthBytes === 1 ? this.u8() : this.u16()));
  }
}

/** The handshake bytes carried by the records at the start of `data`. */
function handshakeBytes(data: Buffer): { bytes: Buffer; problem?: string } {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    if (data[offset] !== HANDSHAKE) {
      return { bytes: Buffer.alloc(0), problem: "a non-handshake record inside the ClientHello" };
    }
    const length = data.readUInt16BE(offset + 3);
    if (length === 0 || length > MAX_RECORD) {
      return { bytes: Buffer.alloc(0), problem: `a TLS record of ${length} bytes` };
    }
    // A record still arriving contributes what is there, so a hello's header is read early.
    parts.push(data.subarray(offset + 5, Math.min(offset + 5 + length, data.length)));
    offset += 5 + length;
  }
  return { bytes: Buffer.concat(parts) };
}

function serverNameIn(extensions: Reader): string | undefined {
  let found: string | undefined;
  let seen = false;
  while (extensions.left > 0) {
    const type = extensions.u16();
    const body = extensions.vector(2);
    if (type !== SERVER_NAME) continue;
    if (seen) throw new Error("two server_name extensions");
    seen = true;
    const names = body.vector(2);
    while (names.left > 0) {
      const nameType = names.u8();
      const name = names.vector(2);
      if (nameType !== HOST_NAME) continue;
      if (found !== undefined) throw new Error("two host names in server_name");
      found = name.bytes(name.left).toString("latin1");
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(found)) {
        throw new Error("a server name that is not a host name");
      }
    }
  }
  return found;
}

/** Parses the ClientHello body (after the 4-byte handshake header). */
function parseHello(body: Buffer): string | undefined {
  const hello = new Reader(body);
  hello.bytes(2 + 32); // legacy_version, random
  hello.vector(1); // legacy_session_id
  hello.vector(2); // cipher_suites
  hello.vector(1); // legacy_compression_methods
  if (hello.left === 0) return undefined; // no extensions at all
  return serverNameIn(hello.vector(2));
}

/** What the first bytes of a connection say; call again with more bytes while "incomplete". */
export function readClientHello(data: Buffer): ClientHello {
  if (data.length === 0) return { kind: "incomplete" };
  if (data[0] !== HANDSHAKE || (data.length > 1 && data[1] !== 0x03)) return { kind: "not-tls" };
  const { bytes, problem } = handshakeBytes(data);
  if (problem) return { kind: "malformed", reason: problem };
  if (bytes.length >= 1 && bytes[0] !== CLIENT_HELLO) {
    return { kind: "malformed", reason: "the first handshake message is not a ClientHello" };
  }
  if (bytes.length >= 4) {
    const length = bytes.readUIntBE(1, 3);
    if (length > MAX_HELLO_BYTES) {
      return { kind: "malformed", reason: `a ClientHello of ${length} bytes` };
    }
    if (bytes.length >= 4 + length) {
      try {
        return { kind: "hello", serverName: parseHello(bytes.subarray(4, 4 + length)) };
      } catch (err) {
        const reason =
          err instanceof Truncated ? "a truncated ClientHello" : (err as Error).message;
        return { kind: "malformed", reason };
      }
    }
  }
  if (data.length >= MAX_HELLO_BYTES) {
    return { kind: "malformed", reason: `no complete ClientHello in ${data.length} bytes` };
  }
  return { kind: "incomplete" };
}
