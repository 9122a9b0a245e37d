/**
 * The inspection process (see ./inspector.ts): loads wasm-tools once, then
 * reads each staged file it is sent and answers what it is.
 */
import fs from "node:fs/promises";
import { ComponentError, inspectWasm, loadComponentTools } from "@wasm-registry/core";

// Load wasm-tools now, while the registry starts, not during the first publish.
void loadComponentTools().catch(() => {});

process.on("message", async ({ id, path }: { id: number; path: string }) => {
  let answer: object;
  try {
    answer = { id, info: await inspectWasm(await fs.readFile(path)) };
  } catch (error) {
    answer =
      error instanceof ComponentError
        ? { id, problem: error.problem, message: error.message }
        : { id, crash: error instanceof Error ? error.message : String(error) };
  }
  process.send!(answer);
});

// The registry went away: nothing left to do.
process.on("disconnect", () => process.exit(0));
