import { describe, expect, it } from "vitest";
import {
  assertPrintable,
  daemonPath,
  renderTemplate,
  systemdExecArg,
  systemdQuoted,
  templateDirFor,
  xmlText,
} from "./template.ts";

describe("renderTemplate", () => {
  it("fills every placeholder", () => {
    expect(renderTemplate("t", "ExecStart=@A@ @B_2@ a@b.c", { A: "x", B_2: "y" })).toBe(
      "ExecStart=x y a@b.c",
    );
  });

  it("refuses a placeholder without a value", () => {
    expect(() => renderTemplate("wm.service", "@NODE@ @NOPE@", { NODE: "n" })).toThrow(
      "template wm.service has placeholders without a value: NOPE",
    );
  });
});

describe("escaping", () => {
  it("quotes for systemd", () => {
    expect(systemdQuoted('a "b" \\ 50%')).toBe('a \\"b\\" \\\\ 50%%');
    expect(systemdExecArg("/opt/$HOME/100%/node")).toBe("/opt/$$HOME/100%%/node");
  });

  it("escapes XML text", () => {
    expect(xmlText(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;");
  });

  it("rejects control characters that would add lines", () => {
    expect(() => assertPrintable("PATH", "/bin\nExecStartPre=/bin/evil")).toThrow(
      "PATH contains a control character",
    );
  });
});

describe("paths", () => {
  it("finds templates next to dist/", () => {
    expect(templateDirFor("/opt/wm/dist/wmd.js")).toBe("/opt/wm");
  });

  it("puts node's directory on the daemon's PATH", () => {
    expect(daemonPath("/usr/bin:/bin", "/home/u/.nvm/bin/node")).toBe(
      "/home/u/.nvm/bin:/usr/bin:/bin",
    );
    expect(daemonPath("/usr/bin:/bin", "/usr/bin/node")).toBe("/usr/bin:/bin");
    expect(daemonPath(undefined, "/usr/bin/node")).toBe("/usr/local/bin:/usr/bin:/bin");
  });
});
