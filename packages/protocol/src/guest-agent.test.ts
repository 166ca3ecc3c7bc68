import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, parseAgentMessage, parseHostMessage } from "./guest-agent.ts";

describe("guest agent wire", () => {
  it("round-trips a binary frame", () => {
    const f = encodeFrame(0xfffffffe, 2, Buffer.from("abc"));
    expect(decodeFrame(f)).toEqual({ channel: 0xfffffffe, stream: 2, data: Buffer.from("abc") });
    expect(decodeFrame(Buffer.from([0, 0, 0, 1]))).toBeUndefined();
    expect(decodeFrame(Buffer.from([0, 0, 0, 1, 3]))).toBeUndefined();
  });

  it("accepts the messages of the link", () => {
    const exec = { type: "exec", id: 1, argv: ["sh"], env: { A: "b" }, tty: { rows: 2, cols: 3 } };
    expect(parseHostMessage(JSON.stringify(exec))).toEqual(exec);
    const hello = { type: "hello", version: "1", link: 1, pty: null };
    expect(parseAgentMessage(JSON.stringify(hello))).toEqual(hello);
    expect(parseAgentMessage('{"type":"exit","id":4,"code":143}')).toBeTruthy();
  });

  it.each([
    "not json",
    "[]",
    '{"type":"exec","id":1,"argv":[],"tty":null}',
    '{"type":"exec","id":1,"argv":["sh"],"tty":{"rows":0,"cols":3}}',
    '{"type":"exec","id":1,"argv":["sh"],"env":{"A":1},"tty":null}',
    '{"type":"exec","id":-1,"argv":["sh"],"tty":null}',
    '{"type":"signal","id":1,"signal":"rm -rf"}',
    '{"type":"pause","id":1,"stream":3}',
    '{"type":"hello","version":"1","link":1,"pty":null}',
  ])("refuses a daemon message that does not fit: %s", (text) => {
    expect(parseHostMessage(text)).toBeUndefined();
  });

  it.each([
    '{"type":"exit","id":1,"code":"3"}',
    '{"type":"pause","id":1,"stream":1}',
    '{"type":"hello","version":1,"link":1,"pty":null}',
    '{"type":"exec","id":1,"argv":["sh"],"tty":null}',
  ])("refuses an agent message that does not fit: %s", (text) => {
    expect(parseAgentMessage(text)).toBeUndefined();
  });
});
