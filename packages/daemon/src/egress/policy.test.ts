import { describe, expect, it } from "vitest";
import { decide, domainProblem, parseDomainRule, parseDomainRules } from "./policy.ts";

const rules = parseDomainRules([
  "github.com",
  "*.npmjs.org",
  "api.anthropic.com:443",
  "example.com:8080",
  { host: "mirror.corp.example", allow_private_ips: true },
]);

describe("allowed_domains entries", () => {
  it("parses names, wildcards and ports (443 unless named)", () => {
    expect(
      rules.map(({ name, wildcard, port, privateRanges }) => ({
        name,
        wildcard,
        port,
        privateRanges,
      })),
    ).toEqual([
      { name: "github.com", wildcard: false, port: 443, privateRanges: false },
      { name: "npmjs.org", wildcard: true, port: 443, privateRanges: false },
      { name: "api.anthropic.com", wildcard: false, port: 443, privateRanges: false },
      { name: "example.com", wildcard: false, port: 8080, privateRanges: false },
      { name: "mirror.corp.example", wildcard: false, port: 443, privateRanges: true },
    ]);
  });

  it.each([
    ["", "empty domain"],
    ["140.82.112.3", "IP literals are not allowed, only domain names: 140.82.112.3"],
    ["140.82.112.3:443", "IP literals are not allowed, only domain names: 140.82.112.3:443"],
    ["[::1]:443", "IP literals are not allowed, only domain names: [::1]:443"],
    ["::1", "IP literals are not allowed, only domain names: ::1"],
    ["example.com.", "trailing dot not allowed: example.com."],
    ["api.*.example.com", "wildcards must have the form *.suffix: api.*.example.com"],
    ["*", "wildcards must have the form *.suffix: *"],
    ["example.com:0", "port must be a number from 1 to 65535: example.com:0"],
    ["example.com:65536", "port must be a number from 1 to 65535: example.com:65536"],
    ["example.com:", "port must be a number from 1 to 65535: example.com:"],
    [
      "https://example.com",
      "not a domain name (only name, *.suffix or name:port; no scheme or path): https://example.com",
    ],
    [
      "example.com/path",
      "not a domain name (only name, *.suffix or name:port; no scheme or path): example.com/path",
    ],
  ])("refuses %j: %s", (entry, message) => {
    expect(domainProblem(entry)).toBe(message);
    expect(() => parseDomainRule(entry)).toThrow(`sandbox.network.allowed_domains: ${message}`);
  });

  it("refuses a private-address opt-in on a wildcard, as workmux does", () => {
    expect(() => parseDomainRule({ host: "*.corp.example", allow_private_ips: true })).toThrow(
      "allow_private_ips needs an exact host, not a wildcard: *.corp.example",
    );
    expect(parseDomainRule({ host: "*.corp.example" }).wildcard).toBe(true);
  });
});

describe("decide", () => {
  it("an exact entry allows that name on 443 only, in any case, with or without a final dot", () => {
    expect(decide("github.com", 443, rules)).toMatchObject({ allowed: true });
    expect(decide("GitHub.COM.", 443, rules)).toMatchObject({ allowed: true });
    expect(decide("api.github.com", 443, rules)).toEqual({
      allowed: false,
      reason: "api.github.com is not in allowed_domains",
    });
    expect(decide("github.com", 80, rules)).toEqual({
      allowed: false,
      reason: "github.com is allowed only on port 443, not 80",
    });
  });

  it("a wildcard allows subdomains at any depth but not the apex (workmux)", () => {
    expect(decide("registry.npmjs.org", 443, rules)).toMatchObject({ allowed: true });
    expect(decide("a.b.npmjs.org", 443, rules)).toMatchObject({ allowed: true });
    expect(decide("npmjs.org", 443, rules)).toMatchObject({ allowed: false });
    expect(decide("evilnpmjs.org", 443, rules)).toMatchObject({ allowed: false });
  });

  it("a port in the entry replaces 443", () => {
    expect(decide("example.com", 8080, rules)).toMatchObject({ allowed: true });
    expect(decide("example.com", 443, rules)).toEqual({
      allowed: false,
      reason: "example.com is allowed only on port 8080, not 443",
    });
    expect(decide("api.anthropic.com", 443, rules)).toMatchObject({ allowed: true });
  });

  it("refuses IP literals and names that are not host names", () => {
    for (const host of ["140.82.112.3", "[::1]", "::1", "127.1", "0x7f000001", "a.0x7f"]) {
      expect(decide(host, 443, rules)).toMatchObject({ allowed: false });
    }
    expect(decide("140.82.112.3", 443, rules)).toEqual({
      allowed: false,
      reason: "140.82.112.3 is an IP address; only names listed in allowed_domains are reachable",
    });
    expect(decide("git hub.com", 443, rules)).toMatchObject({
      allowed: false,
      reason: 'not a valid host name: "git hub.com"',
    });
  });

  it("carries the entry's private-address opt-in", () => {
    const decision = decide("mirror.corp.example", 443, rules);
    expect(decision.allowed && decision.rule.privateRanges).toBe(true);
  });

  it("an empty list allows nothing", () => {
    expect(decide("github.com", 443, [])).toEqual({
      allowed: false,
      reason: "github.com is not in allowed_domains",
    });
  });
});
