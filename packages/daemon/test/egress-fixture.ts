import { execFileSync } from "node:child_process";
import dgram from "node:dgram";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import packet from "dns-packet";
import { findShimBundle, ShimRuntimes } from "../src/sandbox/shim-runtime.ts";

/**
 * The "internet" of the egress tests, all on this machine: an HTTP/HTTPS server in a container
 * of the tests' own on two engine networks of their own, and a DNS server on loopback that
 * knows the test names (the daemon asks it through WM_EGRESS_DNS_SERVERS).
 */
export interface EgressWorld {
  /** The server's address on the first network, and that network's subnet. */
  serverIp: string;
  subnet: string;
  /** Its address on the second network (a "private" address no policy has named). */
  innerIp: string;
  innerSubnet: string;
  networks: [string, string];
  server: string;
  /** The CA file that signed the server's certificate, for curl's --cacert. */
  caFile: string;
  dnsPort: number;
  /** Every query the DNS server saw, as `TYPE name`. */
  dnsSeen: string[];
  close(): Promise<void>;
}

const SERVER_JS = `
import http from "node:http";
import https from "node:https";
import fs from "node:fs";
const tls = { key: fs.readFileSync("/srv/key.pem"), cert: fs.readFileSync("/srv/cert.pem") };
const answer = (proto) => (req, res) => {
  const body = Buffer.alloc(Number(new URL(req.url, "http://x").searchParams.get("bytes") ?? 0), 97);
  res.setHeader("content-type", "text/plain");
  res.end(body.length > 0 ? body : "hello " + proto + " " + req.headers.host + "\\n");
};
await Promise.all([
  new Promise((r) => http.createServer(answer("http")).listen(80, r)),
  new Promise((r) => https.createServer(tls, answer("https")).listen(443, r)),
  new Promise((r) => https.createServer(tls, answer("https")).listen(8443, r)),
]);
console.log("server ready");
`;

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8" }).trim();
}

const TEST_NAMES = ["allowed.test", "denied.test", "inner.test", "other.test"];

export async function startEgressWorld(dir: string, image: string): Promise<EgressWorld> {
  const tag = `wmtest-egress-${process.pid}`;
  const networks: [string, string] = [`${tag}-a`, `${tag}-b`];
  const server = `${tag}-server`;
  const srv = path.join(dir, "srv");
  await fs.mkdir(srv, { recursive: true });
  const names = TEST_NAMES.map((n) => `DNS:${n}`).join(",");
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=allowed.test",
    "-addext",
    `subjectAltName=${names}`,
    "-keyout",
    path.join(srv, "key.pem"),
    "-out",
    path.join(srv, "cert.pem"),
  ]);
  await fs.writeFile(path.join(srv, "server.mjs"), SERVER_JS);
  await fs.chmod(srv, 0o755);
  for (const f of ["key.pem", "cert.pem", "server.mjs"]) await fs.chmod(path.join(srv, f), 0o644);
  // The server runs node the way the shim does: the host's node, loader and libraries.
  const runtime = await new ShimRuntimes().prepare({
    stateDir: dir,
    shimBundle: findShimBundle(process.env),
  });
  for (const n of networks) docker("network", "create", "--label", `wmtest=${tag}`, n);
  const mounts = runtime.mounts.flatMap((m) => ["-v", `${m.source}:${m.target}:ro`]);
  docker(
    "run",
    "-d",
    "--name",
    server,
    "--label",
    `wmtest=${tag}`,
    "--network",
    networks[0],
    ...mounts,
    "-v",
    `${srv}:/srv:ro`,
    image,
    "sh",
    "-c",
    "exec /opt/wm/lib/ld-linux-*.so.* --library-path /opt/wm/lib /opt/wm/node /srv/server.mjs",
  );
  docker("network", "connect", networks[1], server);
  while (!docker("logs", server).includes("server ready")) {
    if (docker("inspect", "-f", "{{.State.Running}}", server) !== "true")
      throw new Error(`the test server ended: ${docker("logs", server)}`);
    await sleep(100);
  }
  const ipOn = (n: string) =>
    docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${n}").IPAddress}}`, server);
  const subnetOf = (n: string) =>
    docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", n);
  const serverIp = ipOn(networks[0]);
  const innerIp = ipOn(networks[1]);
  const addresses: Record<string, string> = {
    "allowed.test": serverIp,
    "denied.test": serverIp,
    "other.test": serverIp,
    "inner.test": innerIp,
  };
  const dnsSeen: string[] = [];
  const dns = dgram.createSocket("udp4");
  dns.on("message", (msg, from) => {
    const q = packet.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    dnsSeen.push(`${question.type} ${question.name}`);
    const address = addresses[question.name.toLowerCase()];
    const answers: packet.Answer[] =
      address && question.type === "A"
        ? [{ type: "A", name: question.name, ttl: 5, data: address }]
        : address && question.type === "TXT"
          ? [{ type: "TXT", name: question.name, ttl: 5, data: "the-txt-record" }]
          : [];
    const reply = packet.encode({
      id: q.id,
      type: "response",
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (address ? 0 : 3),
      questions: q.questions,
      answers,
    });
    dns.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => dns.bind(0, "127.0.0.1", resolve));
  return {
    serverIp,
    subnet: subnetOf(networks[0]),
    innerIp,
    innerSubnet: subnetOf(networks[1]),
    networks,
    server,
    caFile: path.join(srv, "cert.pem"),
    dnsPort: dns.address().port,
    dnsSeen,
    async close() {
      dns.close();
      try {
        docker("rm", "-f", server);
      } catch {}
      for (const n of networks) {
        try {
          docker("network", "rm", n);
        } catch {}
      }
    },
  };
}
