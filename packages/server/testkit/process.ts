/**
 * The server as its own process: `node dist/src/main.js`, what `npm start`
 * runs, configured by the environment alone. For tests that need a real
 * process: a restart, a SIGKILL, several servers side by side.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The server's entry point, as `npm start` runs it. */
export const SERVER_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "main.js");

/** Generous: on a loaded two-core CI machine a start can take seconds, and a hung start must still end the test. */
const START_TIMEOUT_MS = 60_000;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process has written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then waits for the exit; answers the exit code (null when it was already gone by a signal). */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  /** A command to run the server under, such as `unshare …`. */
  wrap?: string[];
}

/**
 * Starts the server on a free loopback port with `env` (and PATH only, so the
 * test's own environment cannot leak in), and resolves once it is ready. A
 * start that fails or hangs rejects with everything the process printed, and
 * writes that to stderr too, so a CI log shows why.
 */
export async function startServerProcess(env: Record<string, string>, options: StartOptions = {}): Promise<ServerProcess> {
  const [command, ...args] = [...(options.wrap ?? []), process.execPath, SERVER_MAIN];
  const child = spawn(command!, args, {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const started = Date.now();
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const error = new Error(`${reason} after ${Date.now() - started} ms; its output:\n${output}`);
      process.stderr.write(`startServerProcess: ${error.message}\n`);
      reject(error);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(`the server did not start in ${START_TIMEOUT_MS / 1000} s`);
    }, START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!settled && match && output.includes("registry ready")) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onOutput);
    child.stderr!.on("data", onOutput);
    child.once("error", (error) => fail(`the server could not be spawned (${error.message})`));
    child.once("exit", (code, signal) => fail(`the server exited with ${code ?? signal}`));
  });
  return {
    child,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      return code as number | null;
    },
  };
}
