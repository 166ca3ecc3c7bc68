import { describe, expect, it } from "vitest";
import { parsePlist } from "./plist-parse.ts";

const wrap = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "x">\n<plist version="1.0">${body}</plist>\n`;

describe("parsePlist", () => {
  it("reads dicts, arrays, strings, booleans and numbers", () => {
    const value = parsePlist(
      wrap(
        "<dict><key>A</key><string>x &amp; &#60;y&#x3e;</string><key>B</key><array><true/><false/></array>" +
          "<key>C</key><integer>-3</integer><!-- note --><key>D</key><dict/></dict>",
      ),
    );
    expect(value).toEqual({ A: "x & <y>", B: [true, false], C: -3, D: {} });
  });

  it.each([
    ["a mismatched tag", "<dict><key>A</key><string>x</strin></dict>"],
    ["an unclosed element", "<dict><key>A</key><string>x</string>"],
    ["a bare ampersand", "<string>a & b</string>"],
    ["an unknown entity", "<string>&nbsp;</string>"],
    ["a key without a value", "<dict><key>A</key></dict>"],
    ["a duplicate key", "<dict><key>A</key><true/><key>A</key><true/></dict>"],
    ["stray text", "<dict>oops<key>A</key><true/></dict>"],
    ["an unknown element", "<dict><key>A</key><thing/></dict>"],
  ])("rejects %s", (_what, body) => {
    expect(() => parsePlist(wrap(body))).toThrow();
  });

  it("rejects content after the root element", () => {
    expect(() => parsePlist(`${wrap("<true/>")}<plist/>`)).toThrow(
      "content after the root element",
    );
  });
});
