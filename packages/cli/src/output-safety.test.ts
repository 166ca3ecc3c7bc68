import { Writable } from "node:stream";
import { unsafeChar } from "@wm/protocol/text";
import { describe, expect, it } from "vitest";
import { formatLogLine } from "./commands/daemon-logs.ts";
import type { CommandContext } from "./commands/spec.ts";
import { renderFrame } from "./dashboard/render.ts";
import { columns, report, table } from "./output.ts";

const OSC52 = "\x1b]52;c;aGk=\x07";
/** The first character a terminal would act on, newlines (line ends) aside. */
const controlIn = (text: string) => unsafeChar(text.replaceAll("\n", ""));

function sink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

function ctxWith(json: boolean) {
  const out = sink();
  const ctx = { json, io: { stdout: out.stream, stderr: out.stream } } as unknown as CommandContext;
  return { ctx, out };
}

describe("CLI output of agent-supplied text", () => {
  it("columns and tables show each cell on one line with controls escaped, still aligned", () => {
    const text = columns(
      ["NAME", "STATUS"],
      [
        [`a${OSC52}b`, "x\u202ey"],
        ["plain", "ok"],
      ],
    );
    expect(controlIn(text)).toBeUndefined();
    const [head, first, second] = text.split("\n");
    expect(first).toBe("a\\x1b]52;c;aGk=\\x07b  x\\u202ey");
    expect(second?.indexOf("ok")).toBe(first?.indexOf("x\\u202ey"));
    expect(head?.startsWith("NAME")).toBe(true);
    expect(table([[`k\n`, `v${OSC52}`]])).toBe("k\\n  v\\x1b]52;c;aGk=\\x07");
  });

  it("report escapes the human text and keeps --json parseable and equal to the data", () => {
    const data = { message: `hi${OSC52}\u009b2J\u202e` };
    const human = ctxWith(false);
    report(human.ctx, data, (d) => `line one\n${d.message}`);
    expect(human.out.text()).toBe("line one\nhi\\x1b]52;c;aGk=\\x07\\x9b2J\\u202e\n");
    const json = ctxWith(true);
    report(json.ctx, data, () => "");
    // Control: the data itself holds the raw characters.
    expect(controlIn(data.message)).toBe("\x1b");
    expect(controlIn(json.out.text())).toBeUndefined();
    expect(JSON.parse(json.out.text())).toEqual(data);
  });

  it("`wm daemon logs` shows a logged notify text with its escapes neutralised", () => {
    const line = JSON.stringify({
      level: 30,
      time: 1,
      pid: 9,
      sandbox: "sb-1",
      message: `look ${OSC52} here\u202e`,
      msg: "agent notification",
    });
    const shown = formatLogLine(line);
    expect(controlIn(shown)).toBeUndefined();
    expect(shown).toContain("message=look \\x1b]52;c;aGk=\\x07 here\\u202e");
    expect(formatLogLine(`not json ${OSC52}`)).toBe("not json \\x1b]52;c;aGk=\\x07");
  });

  it("the dashboard shows a message from elsewhere with its escapes neutralised", () => {
    const lines = renderFrame(
      {
        rows: [],
        selected: -1,
        now: 0,
        help: false,
        prompt: null,
        message: `merge failed: ${OSC52}\u202e`,
      },
      100,
      5,
      { footer: true },
    );
    expect(controlIn(lines.join("\n"))).toBeUndefined();
    expect(lines.at(-1)).toBe("merge failed: \\x1b]52;c;aGk=\\x07\\u202e");
  });
});
