/**
 * Scale-out figures beside the embedded store's: metadata GET requests per
 * second and 5 MB component downloads in MB/s, each against a real server
 * process on loopback. PostgreSQL is the machine's (a database made and
 * dropped for the run); S3 is s3rver on a loopback port.
 *
 *   npm run bench (after bench.js), or node packages/server/dist/bench/scale-bench.js [seconds per figure, default BENCH_SECONDS or 5]
 *
 * Load comes from wrk when it is installed (Debian's `wrk`), else from a
 * keep-alive loop in this process, which is slower and says so.
 */
import { execFile, spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTestDatabase, startS3 } from "../testkit/backends.js";
import { paddedComponent } from "../testkit/fixtures.js";
import { ADMIN_TOKEN, componentBytes, publish, tempDir } from "../testkit/helpers.js";

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "main.js");
const SECONDS = Number(process.argv[2] ?? process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;

async function hasWrk(): Promise<boolean> {
  return promisify(execFile)("wrk", ["--version"]).then(
    () => true,
    (error: { code?: unknown }) => error.code !== "ENOENT",
  );
}

/** Starts a server process; resolves with its URL once it listens. */
async function startServer(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN,
      DATA_DIR: await tempDir("bench-data-"),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  // Past start-up, stop reading its request log lines into memory.
  child.stdout.removeAllListeners("data").resume();
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Figure {
  requestsPerSecond: number;
  bytesPerSecond: number;
}

async function withWrk(url: string): Promise<Figure> {
  const { stdout } = await promisify(execFile)("wrk", ["-t2", `-c${CONNECTIONS}`, `-d${SECONDS}s`, url]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const transfer = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (!rps || !transfer) throw new Error(`cannot read wrk's output:\n${stdout}`);
  if (non2xx) throw new Error(`${non2xx[1]} requests failed during the run of ${url}`);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[transfer[2] as "B" | "KB" | "MB" | "GB"];
  return { requestsPerSecond: Number(rps[1]), bytesPerSecond: Number(transfer[1]) * unit };
}

/** A closed loop of keep-alive GETs, CONNECTIONS at a time, for SECONDS. */
async function withLoop(url: string): Promise<Figure> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const end = Date.now() + SECONDS * 1000;
  let requests = 0;
  let bytes = 0;
  const worker = async () => {
    while (Date.now() < end) {
      await new Promise<void>((resolve, reject) => {
        http
          .get(url, { agent }, (response) => {
            if (response.statusCode !== 200) reject(new Error(`${url} answered ${response.statusCode}`));
            response.on("data", (chunk: Buffer) => (bytes += chunk.length));
            response.on("end", () => {
              requests++;
              resolve();
            });
          })
          .on("error", reject);
      });
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  const seconds = (Date.now() - started) / 1000;
  return { requestsPerSecond: requests / seconds, bytesPerSecond: bytes / seconds };
}

async function main(): Promise<void> {
  const load = (await hasWrk()) ? withWrk : withLoop;
  const db = await createTestDatabase();
  const s3 = await startS3();
  const bucket = await s3.createBucket();
  const backends: [string, Record<string, string>][] = [
    ["embedded (SQLite + files)", {}],
    ["PostgreSQL + S3 (s3rver)", { DATABASE_URL: db.url, ...s3.env(bucket) }],
    // Every metadata request reaches PostgreSQL: what a cold cache or a cache-less deployment sees.
    ["PostgreSQL + S3, metadata cache off", { DATABASE_URL: db.url, ...s3.env(bucket), METADATA_CACHE_SECONDS: "0" }],
  ];
  const big = await paddedComponent(5 * 1024 * 1024);
  process.stdout.write(
    `scale-bench: ${SECONDS} s per figure, ${CONNECTIONS} connections, load from ${load === withWrk ? "wrk" : "a keep-alive loop in node (slower than wrk)"}\n`,
  );
  try {
    for (const [label, env] of backends) {
      const server = await startServer(env);
      try {
        const small = await publish(server.url, componentBytes(2), { fields: { name: "bench:small", version: "1.0.0", description: "small" } });
        const large = await publish(server.url, big, { fields: { name: "bench:large", version: "1.0.0", description: "5 MB" } });
        // 409: an earlier row published them to the same database, which is as good.
        const published = (status: number) => status === 201 || status === 409;
        if (!published(small.status) || !published(large.status)) throw new Error(`publish failed: ${small.status}, ${large.status}`);
        const metadata = await load(`${server.url}/api/v1/packages/bench:small/1.0.0`);
        const download = await load(`${server.url}/packages/bench:large/1.0.0/artifact.wasm`);
        process.stdout.write(
          `${label.padEnd(38)} metadata GET ${metadata.requestsPerSecond.toFixed(0).padStart(7)} req/s   ` +
            `5 MB download ${(download.bytesPerSecond / 1024 / 1024).toFixed(0).padStart(5)} MB/s (${download.requestsPerSecond.toFixed(1)} req/s)\n`,
        );
      } finally {
        await server.stop();
      }
    }
  } finally {
    await s3.stop();
    await db.drop();
  }
}

main().catch((error) => {
  process.stderr.write(`scale-bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
