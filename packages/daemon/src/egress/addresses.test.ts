import { describe, expect, it } from "vitest";
import { addressClass, addressRefusal, allowanceFrom, cidrProblem } from "./addresses.ts";

const none = allowanceFrom([]);

describe("addressRefusal", () => {
  it.each([
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fd12::1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["::1", "loopback"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%lo", "link-local"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["255.255.255.255", "reserved"],
    ["169.254.169.254", "cloud metadata"],
    ["fd00:ec2::254", "cloud metadata"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "cloud metadata"],
    ["0:0:0:0:0:ffff:a00:1", "private"],
    ["64:ff9b::a9fe:a9fe", "cloud metadata"],
  ])("refuses %s (%s)", (ip, kind) => {
    expect(addressClass(ip)).toBe(kind);
    expect(addressRefusal(ip, none)).toBe(
      `${ip} is a ${kind} address; name a range containing it in sandbox.network.allow_private_ips to allow it`,
    );
  });

  it.each([
    "140.82.112.3",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
  ])("allows the public address %s", (ip) => {
    expect(addressRefusal(ip, none)).toBeUndefined();
  });

  it("allows what allow_private_ips names, and only that", () => {
    const allow = allowanceFrom(["127.0.0.0/8", "10.1.0.0/16", "169.254.169.254", "fd00::/8"]);
    expect(addressRefusal("127.0.0.5", allow)).toBeUndefined();
    expect(addressRefusal("::ffff:127.0.0.5", allow)).toBeUndefined();
    expect(addressRefusal("10.1.2.3", allow)).toBeUndefined();
    expect(addressRefusal("169.254.169.254", allow)).toBeUndefined();
    expect(addressRefusal("fd00:ec2::254", allow)).toBeUndefined();
    expect(addressRefusal("10.2.0.1", allow)).toMatch(/private address/);
    expect(addressRefusal("169.254.1.1", allow)).toMatch(/link-local address/);
    expect(addressRefusal("::1", allow)).toMatch(/loopback address/);
  });

  it("an entry's allow_private_ips: true allows private and CGNAT, never loopback, link-local or metadata", () => {
    const entry = allowanceFrom([], true);
    for (const ip of ["10.0.0.1", "192.168.0.1", "fd12::1", "100.64.0.1"]) {
      expect(addressRefusal(ip, entry)).toBeUndefined();
    }
    for (const ip of [
      "127.0.0.1",
      "169.254.1.1",
      "169.254.169.254",
      "fd00:ec2::254",
      "0.0.0.0",
      "224.0.0.1",
    ]) {
      expect(addressRefusal(ip, entry)).toBeDefined();
    }
  });

  it("refuses what is not an address", () => {
    expect(addressRefusal("example.com", none)).toBe("not an IP address: example.com");
  });
});

describe("allow_private_ips entries", () => {
  it.each([
    ["10.0.0.0/8", undefined],
    ["10.0.0.1", undefined],
    ["fd00::/8", undefined],
    ["10.0.0.0/33", "prefix length must be 0-32: 10.0.0.0/33"],
    ["fd00::/129", "prefix length must be 0-128: fd00::/129"],
    ["10.0.0.0/x", "prefix length must be 0-32: 10.0.0.0/x"],
    ["intranet/8", "not an IP address range (like 10.0.0.0/8 or fd00::/8): intranet/8"],
    ["10.0.0.0/8/8", "not an IP address range (like 10.0.0.0/8 or fd00::/8): 10.0.0.0/8/8"],
  ])("%s: %s", (cidr, problem) => {
    expect(cidrProblem(cidr)).toBe(problem);
  });

  it("a bad entry is named with its key", () => {
    expect(() => allowanceFrom(["10.0.0.0/8", "nope"])).toThrow(
      "sandbox.network.allow_private_ips: not an IP address range (like 10.0.0.0/8 or fd00::/8): nope",
    );
  });
});
