/**
 * npm run bench: the registry against a bare node:http server on the same
 * machine, in the same run. Each server is pinned to core 0 and wrk to core 1.
 * Prints requests/s and p99 for version metadata, MB/s for a 5 MB download,
 * and the registry's peak RSS while a 50 MB component is published.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { inspectWasm, loadComponentTools } from "@wasm-registry/core";
import { greeterComponent, paddedComponent } from "../testkit/fixtures.js";

const execFileAsync = promisify(execFile);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(HERE, "..", "src", "main.js");
const BARE = path.join(HERE, "bare-server.js");
const TOKEN = "bench-admin-token";
const DURATION = process.env.BENCH_SECONDS ?? "8";
/** The machine's speed drifts by ±25% over minutes: registry and bare run in turn, several rounds, and ratios are paired per round. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? "50";
const SERVER_CORE = "0";
const LOAD_CORE = os.cpus().length > 1 ? "1" : "0";

function requireTool(tool: string, hint: string): void {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
  } catch {
    process.stderr.write(`bench: ${tool} is not installed; ${hint}\n`);
    process.exit(1);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  return port;
}

function pinned(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, stdout: "pipe" | number = "pipe"): ChildProcess {
  return spawn("taskset", ["-c", SERVER_CORE, command, ...args], { env, stdio: ["ignore", stdout, "pipe"] });
}

async function waitFor(child: ChildProcess, pattern: RegExp): Promise<void> {
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const check = (chunk: Buffer) => {
      output += chunk;
      if (pattern.test(output)) resolve();
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`the registry exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the registry did not become healthy in 10 s");
}

/** The registry's child processes (its component inspector), found by their parent pid in /proc. */
function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent's pid; the name in field 2 may hold spaces, so split after it.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return children;
}

function childrenRssKb(pids: number[]): number {
  let total = 0;
  for (const child of pids) {
    try {
      total += rssKb(child, "VmRSS");
    } catch {
      // it exited: a retired inspector
    }
  }
  return total;
}

function rssKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
}

interface WrkResult {
  requestsPerSecond: number;
  p99Ms: number;
  transferMBps: number;
}

function toMs(text: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(text)!;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

function toMB(text: string): number {
  const match = /([\d.]+)([KMG]?B)/.exec(text)!;
  const factor = { B: 1 / 1048576, KB: 1 / 1024, MB: 1, GB: 1024 }[match[2] as "B" | "KB" | "MB" | "GB"];
  return Number(match[1]) * factor;
}

function wrk(url: string, connections = CONNECTIONS): WrkResult {
  const output = execFileSync(
    "taskset",
    ["-c", LOAD_CORE, "wrk", "-t1", `-c${connections}`, `-d${DURATION}s`, "--latency", url],
    { encoding: "utf8" },
  );
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)![1]),
    p99Ms: toMs(/\s99%\s+(\S+)/.exec(output)![1]!),
    transferMBps: toMB(/Transfer\/sec:\s+(\S+)/.exec(output)![1]!),
  };
}

async function publishFile(url: string, name: string, version: string, file: string): Promise<string> {
  // Asynchronous, so that the RSS sampler keeps running while curl uploads.
  const { stdout: output } = await execFileAsync(
    "curl",
    ["-sS", "-X", "POST", "-H", `Authorization: Bearer ${TOKEN}`, "-F", `name=${name}`, "-F", `version=${version}`,
      "-F", `component=@${file};type=application/wasm`, `${url}/api/v1/packages`],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const body = JSON.parse(output) as { sha256?: string; error?: unknown };
  if (!body.sha256) throw new Error(`publish failed: ${output}`);
  return body.sha256;
}

async function writeComponent(file: string, bytes: number): Promise<void> {
  fs.writeFileSync(file, await paddedComponent(bytes));
}

/**
 * What inspection costs a publish, in this process (the registry runs the same
 * function in its worker): mean over `runs` inspections of a real component,
 * after one warm-up run; the tooling's one-time load is reported apart.
 */
async function inspectionCost(runs: number, loadMs: number): Promise<string> {
  const lines = [`Inspection (wasm-tools via jco; loaded once per process in ${loadMs.toFixed(0)} ms):`];
  const samples: [string, Uint8Array, number][] = [["greeter built from WAT", await greeterComponent(), runs]];
  const big = path.join(os.tmpdir(), `registry-bench-inspect-${process.pid}.wasm`);
  await writeComponent(big, 50 * 1024 * 1024);
  samples.push(["50 MB component (greeter + 50 MB custom section)", new Uint8Array(fs.readFileSync(big)), 5]);
  fs.rmSync(big);
  for (const [what, bytes, count] of samples) {
    await inspectWasm(bytes);
    const started = performance.now();
    for (let run = 0; run < count; run++) await inspectWasm(bytes);
    const meanMs = (performance.now() - started) / count;
    lines.push(`  ${what}, ${bytes.length} bytes: ${meanMs.toFixed(2)} ms per publish (mean of ${count})`);
  }
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  requireTool("wrk", "install it with: apt-get install -y wrk");
  requireTool("taskset", "install it with: apt-get install -y util-linux");
  requireTool("curl", "install it with: apt-get install -y curl");

  // First use of the tooling in this process: its one-time load, which the registry pays at start-up.
  const loadStarted = performance.now();
  await loadComponentTools();
  const toolsLoadMs = performance.now() - loadStarted;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "registry-bench-"));
  const dataDir = path.join(work, "data");
  const small = path.join(work, "small.wasm");
  const fiveMb = path.join(work, "five.wasm");
  const fiftyMb = path.join(work, "fifty.wasm");
  await writeComponent(small, 16 * 1024);
  await writeComponent(fiveMb, 5 * 1024 * 1024);
  await writeComponent(fiftyMb, 50 * 1024 * 1024);

  const registryPort = await freePort();
  const registryUrl = `http://127.0.0.1:${registryPort}`;
  // The registry logs a line per request, as in production, to a file as a deployment would
  // (a pipe to a busy reader makes log writes wait, which is not the registry's cost).
  const logFile = path.join(work, "registry.log");
  const logFd = fs.openSync(logFile, "w");
  const registry = pinned(process.execPath, [MAIN], {
    ...process.env,
    PORT: String(registryPort),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    REGISTRY_ADMIN_TOKEN: TOKEN,
    MAX_UPLOAD_MB: "64",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
  }, logFd);
  registry.stderr!.resume();
  await waitForHealth(registryUrl, registry);
  const pid = registry.pid!;

  try {
    // Memory first, on a fresh process, so the peak is the publish's own.
    await publishFile(registryUrl, "bench:warmup", "1.0.0", small);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idleKb = rssKb(pid, "VmRSS");
    // Forget the start-up peak: writing 5 to clear_refs resets VmHWM (Linux 4.0+).
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    let sampledPeakKb = idleKb;
    let inspectorPeakKb = 0;
    const inspectorPids = childPids(pid);
    const sampler = setInterval(() => {
      sampledPeakKb = Math.max(sampledPeakKb, rssKb(pid, "VmRSS"));
      inspectorPeakKb = Math.max(inspectorPeakKb, childrenRssKb(inspectorPids));
    }, 5);
    const started = process.hrtime.bigint();
    await publishFile(registryUrl, "bench:big", "1.0.0", fiftyMb);
    const publishMs = Number(process.hrtime.bigint() - started) / 1e6;
    clearInterval(sampler);
    const peakKb = Math.max(sampledPeakKb, rssKb(pid, "VmHWM"));

    await publishFile(registryUrl, "bench:calc", "1.0.0", small);
    const fiveSha = await publishFile(registryUrl, "bench:five", "1.0.0", fiveMb);
    const metadataUrl = `${registryUrl}/api/v1/packages/bench:calc/1.0.0`;
    const metadataFile = path.join(work, "metadata.json");
    fs.writeFileSync(metadataFile, Buffer.from(await (await fetch(metadataUrl)).arrayBuffer()));
    const blobFile = path.join(dataDir, "blobs", "sha256", fiveSha.slice(0, 2), fiveSha);

    const barePort = await freePort();
    const bare = pinned(process.execPath, [BARE, String(barePort), metadataFile, blobFile]);
    await waitFor(bare, /ready/);
    const bareUrl = `http://127.0.0.1:${barePort}`;

    try {
      process.stdout.write(
        `\nwrk: ${DURATION}s per figure, ${CONNECTIONS} connections (8 for downloads), 1 thread on core ${LOAD_CORE}; ` +
          `servers on core ${SERVER_CORE}; ${ROUNDS} rounds, the bare server and the registry in turn\n\n`,
      );
      const rounds: { bareMeta: WrkResult; regMeta: WrkResult; bareFile: WrkResult; regFile: WrkResult }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        rounds.push({
          bareMeta: wrk(`${bareUrl}/metadata`),
          regMeta: wrk(metadataUrl),
          bareFile: wrk(`${bareUrl}/component`, "8"),
          regFile: wrk(`${registryUrl}/packages/bench:five/1.0.0/artifact.wasm`, "8"),
        });
      }
      const metaRatios = rounds.map((r) => r.regMeta.requestsPerSecond / r.bareMeta.requestsPerSecond);
      const fileRatios = rounds.map((r) => r.regFile.transferMBps / r.bareFile.transferMBps);
      const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      const percents = (values: number[]) => values.map((value) => `${(value * 100).toFixed(0)}%`).join(", ");
      const rows = [
        ["GET /api/v1/packages/:name/:version",
          `${medianOf(rounds.map((r) => r.regMeta.requestsPerSecond)).toFixed(0)} req/s, p99 ${medianOf(rounds.map((r) => r.regMeta.p99Ms)).toFixed(2)} ms`,
          `${medianOf(rounds.map((r) => r.bareMeta.requestsPerSecond)).toFixed(0)} req/s, p99 ${medianOf(rounds.map((r) => r.bareMeta.p99Ms)).toFixed(2)} ms`,
          `${(medianOf(metaRatios) * 100).toFixed(0)}% (rounds: ${percents(metaRatios)})`, ">= 50%"],
        ["GET artifact.wasm (5 MB)",
          `${medianOf(rounds.map((r) => r.regFile.transferMBps)).toFixed(0)} MB/s`,
          `${medianOf(rounds.map((r) => r.bareFile.transferMBps)).toFixed(0)} MB/s`,
          `${(medianOf(fileRatios) * 100).toFixed(0)}% (rounds: ${percents(fileRatios)})`, ">= 90%"],
      ];
      process.stdout.write("Medians over the rounds; the ratio is the median of each round's registry/bare.\n\n");
      process.stdout.write("| measure | registry | bare node:http | ratio | aim |\n|---|---|---|---|---|\n");
      for (const row of rows) process.stdout.write(`| ${row.join(" | ")} |\n`);
      process.stdout.write(
        `\nPublish of a 50 MB component: ${publishMs.toFixed(0)} ms; registry RSS idle ${(idleKb / 1024).toFixed(1)} MB, ` +
          `peak ${(peakKb / 1024).toFixed(1)} MB, +${((peakKb - idleKb) / 1024).toFixed(1)} MB (aim: < 30 MB); ` +
          `the inspection child process peaked at ${(inspectorPeakKb / 1024).toFixed(1)} MB and is replaced after files over 16 MB\n`,
      );
      const logged = execFileSync("grep", ["-c", '"msg":"request"', logFile], { encoding: "utf8" }).trim();
      process.stdout.write(`The registry logged ${logged} request lines (LOG_LEVEL=${process.env.LOG_LEVEL ?? "info"}) to a file during the run.\n`);
      process.stdout.write(`\n${await inspectionCost(Number(process.env.BENCH_INSPECT_RUNS ?? "200"), toolsLoadMs)}`);
    } finally {
      bare.kill();
    }
  } finally {
    registry.kill("SIGTERM");
    await once(registry, "exit");
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
