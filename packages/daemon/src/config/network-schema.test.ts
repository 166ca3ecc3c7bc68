import { describe, expect, it } from "vitest";
import { parseYaml } from "./parse.ts";
import { isTree, withoutNulls } from "./tree.ts";
import { validateFile } from "./validate.ts";

function check(yaml: string) {
  const parsed = parseYaml("/f.yaml", yaml);
  const raw = withoutNulls(parsed.value ?? {});
  if (!isTree(raw)) throw new Error("not a map");
  const result = validateFile("/f.yaml", raw, parsed.locate);
  return result.errors.map((e) => `${e.key}: ${e.message}`);
}

describe("sandbox.network", () => {
  it("takes name:port entries and address ranges", () => {
    const yaml = [
      "sandbox:",
      "  network:",
      "    policy: deny",
      '    allowed_domains: [github.com, "*.npmjs.org", "api.anthropic.com:443", "example.com:8080"]',
      '    allow_private_ips: ["10.0.0.0/8", "fd00::/8", "192.168.1.10"]',
    ].join("\n");
    expect(check(yaml)).toEqual([]);
  });

  it("names the bad range and the bad port", () => {
    const yaml = [
      "sandbox:",
      "  network:",
      '    allowed_domains: ["example.com:99999"]',
      '    allow_private_ips: ["10.0.0.0/8", "10.0.0.0/40", "intranet"]',
    ].join("\n");
    expect(check(yaml)).toEqual([
      "sandbox.network.allowed_domains.0: port must be a number from 1 to 65535: example.com:99999",
      "sandbox.network.allow_private_ips.1: prefix length must be 0-32: 10.0.0.0/40",
      "sandbox.network.allow_private_ips.2: not an IP address range (like 10.0.0.0/8 or fd00::/8): intranet",
    ]);
  });

  it("refuses workmux's private-address opt-in on a wildcard", () => {
    const yaml = [
      "sandbox:",
      "  network:",
      "    allowed_domains:",
      "      - host: mirror.example",
      "        allow_private_ips: true",
      '      - host: "*.example"',
      "        allow_private_ips: true",
    ].join("\n");
    expect(check(yaml)).toEqual([
      "sandbox.network.allowed_domains.1.allow_private_ips: allow_private_ips needs an exact host, not a wildcard",
    ]);
  });
});
