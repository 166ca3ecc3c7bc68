// `status.set` calls made inside a sandbox over its guest socket, the way the shim makes them
// (HTTP POST /rpc on /run/wm/guest.sock), by one long-lived perl process per sandbox that
// keeps its connection open between calls. Each call's time is measured inside the container.
import { type ChildProcess, spawn } from "node:child_process";

/**
 * ARGV: mode ("paced" or "flood"), seconds, then calls per second (paced) or processes (flood).
 * Prints "ready", waits for a line on stdin, then calls until the time is up. Every process
 * prints one `counts outcome=n …` line (`maxlag`: ms the pace fell behind at worst, `secs`: how
 * long it called); paced
 * calls also print `lat <ms>` per answered call. Outcomes: ok (200 with a result), refused
 * (429), or how it failed (connect, write, closed, timeout, http<code>).
 */
const PROGRAM = String.raw`
use strict; use warnings;
use IO::Socket::UNIX; use IO::Select; use Time::HiRes qw(time sleep);
$| = 1; $SIG{PIPE} = 'IGNORE';
my ($mode, $seconds, $arg) = @ARGV;
my $body = '{"jsonrpc":"2.0","id":1,"method":"status.set","params":{"status":"working"}}';
my $req = "POST /rpc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
my $conn;
sub drop { close($conn) if $conn; undef $conn; }
sub call {
  my $deadline = time + 5;
  $conn //= IO::Socket::UNIX->new(Peer => "/run/wm/guest.sock", Type => SOCK_STREAM) or return "connect";
  for (my $off = 0; $off < length $req;) {
    my $w = syswrite($conn, $req, length($req) - $off, $off);
    if (!$w) { drop(); return "write"; }
    $off += $w;
  }
  my $sel = IO::Select->new($conn);
  my ($buf, $need) = ("", undef);
  while (!defined $need || length($buf) < $need) {
    my $left = $deadline - time;
    if ($left <= 0 || !$sel->can_read($left)) { drop(); return "timeout"; }
    if (!sysread($conn, $buf, 65536, length $buf)) { drop(); return "closed"; }
    my $h = index($buf, "\r\n\r\n");
    if (!defined $need && $h >= 0) {
      my ($len) = substr($buf, 0, $h) =~ /\r\ncontent-length: *(\d+)/i;
      $need = $h + 4 + ($len // 0);
    }
  }
  my $head = substr($buf, 0, index($buf, "\r\n\r\n"));
  drop() if $head =~ /\r\nconnection: *close/i;
  my ($code) = $head =~ m{^HTTP/1\.[01] (\d+)};
  $code //= 0;
  return "ok" if $code == 200 && $buf =~ /"result":/;
  return $code == 429 ? "refused" : "http$code";
}
print "ready\n";
<STDIN>;
my $start = time;
my (%count, @lat);
my $maxlag = 0;
my @kids;
if ($mode eq "paced") {
  my $total = int($seconds * $arg + 0.5);
  for my $i (0 .. $total - 1) {
    my $wait = $start + $i / $arg - time;
    if ($wait > 0) { sleep($wait); } elsif (-$wait > $maxlag) { $maxlag = -$wait; }
    my $t = time;
    my $res = call();
    my $ms = (time - $t) * 1000;
    $count{$res}++;
    push @lat, sprintf("%.3f", $ms) if $res eq "ok";
  }
} else {
  for (2 .. $arg) { my $pid = fork(); if (!$pid) { @kids = (); last; } push @kids, $pid; }
  $count{call()}++ while time < $start + $seconds;
}
print "lat $_\n" for @lat;
print join(" ", "counts", (map { "$_=$count{$_}" } sort keys %count), sprintf("maxlag=%.1f", $maxlag * 1000), sprintf("secs=%.3f", time - $start)), "\n";
waitpid($_, 0) for @kids;
`;

export interface CallCounts {
  ok: number;
  refused: number;
  /** Calls that got neither an answer nor a refusal, by how they failed. */
  failed: Record<string, number>;
  /** Worst delay of a paced call behind its schedule, ms (the caller could not keep up). */
  maxLagMs: number;
  /** How long the calls took from the go, s (the longest of the processes). */
  seconds: number;
}

export interface GuestCalls extends CallCounts {
  /** Round trip of every answered call, ms, measured inside the container. */
  latencies: number[];
}

export const failedCount = (c: CallCounts) => Object.values(c.failed).reduce((a, b) => a + b, 0);

/** One perl process (and its forks) in a sandbox, started and waiting for the go. */
export interface GuestCaller {
  child: ChildProcess;
  ready: Promise<void>;
  go(): void;
  done: Promise<GuestCalls>;
}

/** A caller not ready this long after its start, or not done this long past its time, dies. */
const SLACK_MS = 120_000;

export function startGuestCaller(
  containerId: string,
  mode: "paced" | "flood",
  seconds: number,
  /** Calls per second (paced) or processes calling back to back (flood). */
  arg: number,
): GuestCaller {
  const child = spawn(
    "docker",
    ["exec", "-i", containerId, "perl", "-e", PROGRAM, mode, String(seconds), String(arg)],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  let late = "";
  const deadline = (ms: number, what: string) =>
    setTimeout(() => {
      late = ` (${what})`;
      child.kill("SIGKILL");
    }, ms);
  let timer = deadline(SLACK_MS, `not ready in ${SLACK_MS / 1000} s`);
  child.stdin?.on("error", () => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.startsWith("ready\n")) resolve();
    });
    child.stderr?.on("data", (d) => {
      err += d;
    });
    child.once("close", (code) =>
      reject(
        new Error(
          `the caller in ${containerId} ended before it was ready (${code})${late}: ${err}`,
        ),
      ),
    );
  });
  const done = new Promise<GuestCalls>((resolve, reject) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(parseCalls(out));
      else reject(new Error(`the caller in ${containerId} exited ${code}${late}: ${err.trim()}`));
    });
  });
  ready.then(() => clearTimeout(timer)).catch(() => undefined);
  const go = () => {
    const ms = seconds * 1000 + SLACK_MS;
    timer = deadline(ms, `not done ${SLACK_MS / 1000} s after its ${seconds} s`);
    child.stdin?.end("go\n");
  };
  return { child, ready, go, done };
}

/** Sums what one caller's processes printed. */
export function parseCalls(out: string): GuestCalls {
  const calls: GuestCalls = {
    ok: 0,
    refused: 0,
    failed: {},
    maxLagMs: 0,
    seconds: 0,
    latencies: [],
  };
  for (const line of out.split("\n")) {
    const [kind, ...fields] = line.split(" ");
    if (kind === "lat") calls.latencies.push(Number(fields[0]));
    if (kind !== "counts") continue;
    for (const field of fields) {
      const [name = "", value = "0"] = field.split("=");
      const n = Number(value);
      if (name === "ok") calls.ok += n;
      else if (name === "refused") calls.refused += n;
      else if (name === "maxlag") calls.maxLagMs = Math.max(calls.maxLagMs, n);
      else if (name === "secs") calls.seconds = Math.max(calls.seconds, n);
      else calls.failed[name] = (calls.failed[name] ?? 0) + n;
    }
  }
  return calls;
}

export function mergeCalls(all: readonly GuestCalls[]): GuestCalls {
  const sum: GuestCalls = { ok: 0, refused: 0, failed: {}, maxLagMs: 0, seconds: 0, latencies: [] };
  for (const c of all) {
    sum.ok += c.ok;
    sum.refused += c.refused;
    sum.maxLagMs = Math.max(sum.maxLagMs, c.maxLagMs);
    sum.seconds = Math.max(sum.seconds, c.seconds);
    for (const [k, v] of Object.entries(c.failed)) sum.failed[k] = (sum.failed[k] ?? 0) + v;
    for (const l of c.latencies) sum.latencies.push(l);
  }
  return sum;
}

/** Starts a caller in each container, says go to all at once when all are ready, and waits. */
export async function callTogether(
  callers: readonly GuestCaller[],
  track: (c: ChildProcess) => void,
): Promise<GuestCalls[]> {
  for (const c of callers) track(c.child);
  await Promise.all(callers.map((c) => c.ready));
  for (const c of callers) c.go();
  return Promise.all(callers.map((c) => c.done));
}
