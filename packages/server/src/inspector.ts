/**
 * Component inspection in a child process. wasm-tools (WebAssembly inside
 * jco) keeps the largest memory it ever needed, and a hostile file could make
 * it spin; in a child process neither touches the registry: the child is
 * replaced after a large file, and killed when an inspection takes too long.
 * It loads the tooling once when it starts, never per request.
 */
import { type ChildProcess, fork } from "node:child_process";
import fs from "node:fs/promises";
import type { ComponentInfo, ComponentProblem } from "@wasm-registry/core";

type Answer = { id: number; info: ComponentInfo } | { id: number; problem: ComponentProblem; message: string } | { id: number; crash: string };

/** After a file this large, the child's memory stays that large: start a fresh one. */
const RECYCLE_AFTER_BYTES = 16 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

export class InspectionRefused extends Error {
  constructor(
    readonly problem: ComponentProblem | "timeout",
    message: string,
  ) {
    super(message);
  }
}

interface Waiting {
  resolve: (info: ComponentInfo) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One child process and the inspections it is working on. */
class InspectionProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Waiting>();
  private nextId = 0;
  private retiring = false;

  constructor() {
    this.child = fork(new URL("./inspect-process.js", import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.hold(false);
    this.child.on("message", (answer: Answer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.settle(answer.id, waiting);
      if ("info" in answer) waiting.resolve(answer.info);
      else if ("problem" in answer) waiting.reject(new InspectionRefused(answer.problem, answer.message));
      else waiting.reject(new Error(`component inspection failed: ${answer.crash}`));
    });
    this.child.on("exit", () => {
      const error = new Error("the component inspection process stopped; try the publish again");
      for (const [id, waiting] of this.pending) {
        this.settle(id, waiting);
        waiting.reject(error);
      }
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Takes new work: running and not on its way out. */
  get available(): boolean {
    return this.running && !this.retiring;
  }

  inspect(path: string): Promise<ComponentInfo> {
    const id = this.nextId++;
    return new Promise<ComponentInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, this.pending.get(id)!);
        reject(new InspectionRefused("timeout", `checking the component took longer than ${TIMEOUT_MS / 1000} s; it was refused`));
        // It may be spinning on a hostile file: stop it, whatever else it was doing.
        this.child.kill("SIGKILL");
      }, TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.hold(true);
      this.child.send({ id, path });
    });
  }

  /** Stops the child once the inspections it has are answered. */
  retire(): void {
    this.retiring = true;
    if (this.pending.size === 0) this.child.kill();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill();
    await exited;
  }

  private settle(id: number, waiting: Waiting): void {
    clearTimeout(waiting.timer);
    this.pending.delete(id);
    if (this.pending.size > 0) return;
    this.hold(false);
    if (this.retiring) this.child.kill();
  }

  /** An idle child must not keep the registry's process alive. */
  private hold(busy: boolean): void {
    if (busy) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }
}

export class Inspector {
  private current: InspectionProcess | undefined;
  private readonly all = new Set<InspectionProcess>();

  /** Starts the child and its tooling now, so the first publish does not pay for it. */
  start(): void {
    this.process();
  }

  /** Inspects the file at `path`; rejects with InspectionRefused when the bytes are not acceptable. */
  async inspectFile(path: string): Promise<ComponentInfo> {
    const { size } = await fs.stat(path);
    const worker = this.process();
    try {
      return await worker.inspect(path);
    } finally {
      if (size > RECYCLE_AFTER_BYTES) {
        if (this.current === worker) this.current = undefined;
        worker.retire();
      }
    }
  }

  async close(): Promise<void> {
    this.current = undefined;
    await Promise.all([...this.all].map((worker) => worker.stop()));
    this.all.clear();
  }

  private process(): InspectionProcess {
    if (!this.current?.available) {
      for (const worker of this.all) if (!worker.running) this.all.delete(worker);
      this.current = new InspectionProcess();
      this.all.add(this.current);
    }
    return this.current;
  }
}

let shared: Inspector | undefined;

/** One inspector per process: registries in the same process (tests) share its child. */
export function sharedInspector(): Inspector {
  shared ??= new Inspector();
  return shared;
}
