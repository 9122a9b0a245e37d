/**
 * What a WebAssembly file says about itself: a component or a core module,
 * its world (imports and exports), the world as WIT, and its producers.
 *
 * The work is done by the Bytecode Alliance's wasm-tools (through jco), loaded
 * once per process on first use: loading costs ~150 ms, an inspection a few ms
 * plus the validation of the nested core modules.
 */

export type WasmKind = "component" | "module";

export interface ComponentWorld {
  /** Interfaces (`wasi:cli/environment@0.2.3`) or functions (`log`) the file needs. */
  imports: string[];
  /** Interfaces or functions the file provides. */
  exports: string[];
}

/** A producers section: field (`language`, `processed-by`, `sdk`) → tools with their versions. */
export type Producers = Record<string, { name: string; version: string }[]>;

export interface ComponentInfo {
  kind: WasmKind;
  world: ComponentWorld;
  /** The top-level world as WIT text; null for a core module, which has none. */
  wit: string | null;
  producers?: Producers;
}

export type ComponentProblem = "not_wasm" | "truncated" | "invalid";

/** The bytes are not something a registry of components should hold; the message says why. */
export class ComponentError extends Error {
  constructor(
    readonly problem: ComponentProblem,
    message: string,
  ) {
    super(message);
    this.name = "ComponentError";
  }
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const MODULE_LAYER = [0x01, 0x00, 0x00, 0x00];
const COMPONENT_LAYER = [0x0d, 0x00, 0x01, 0x00];

type Jco = typeof import("@bytecodealliance/jco");
let jco: Promise<Jco> | undefined;

/** Loads wasm-tools once; later calls share the same promise. Call early to keep the cost off a request. */
export function loadComponentTools(): Promise<Jco> {
  jco ??= import("@bytecodealliance/jco").catch((error: unknown) => {
    jco = undefined;
    throw error;
  });
  return jco;
}

function startsWith(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  return expected.every((byte, index) => bytes[offset + index] === byte);
}

/** The kind announced by the first 8 bytes, or a ComponentError. */
export function wasmKindOf(bytes: Uint8Array): WasmKind {
  if (bytes.length < 4 || !startsWith(bytes, 0, MAGIC)) {
    throw new ComponentError("not_wasm", "the file is not WebAssembly: it does not start with the bytes \\0asm");
  }
  if (bytes.length < 8) throw new ComponentError("truncated", "the file is truncated: it ends inside the WebAssembly header");
  if (startsWith(bytes, 4, MODULE_LAYER)) return "module";
  if (startsWith(bytes, 4, COMPONENT_LAYER)) return "component";
  throw new ComponentError(
    "invalid",
    "the file has an unknown WebAssembly version or layer; expected a component (0d 00 01 00) or a core module (01 00 00 00)",
  );
}

function toolMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // wasm-tools answers "Failed to decode wit component\n<cause> (at offset 0x…)"; keep it on one line.
  return text.replace(/^Failed to decode wit component\s*/i, "").replace(/\s+/g, " ").trim();
}

function problemOf(message: string): ComponentProblem {
  return /unexpected end|end of file|end-of-file|past end|eof/i.test(message) ? "truncated" : "invalid";
}

function fail(what: string, error: unknown): never {
  const message = toolMessage(error);
  const problem = problemOf(message);
  throw new ComponentError(problem, `${problem === "truncated" ? "the file is truncated" : what}: ${message}`);
}

function producersOf(fields: Array<[string, Array<[string, string]>]>[]): Producers | undefined {
  const out: Producers = {};
  for (const list of fields) {
    for (const [field, tools] of list) {
      const known = (out[field] ??= []);
      for (const [name, version] of tools) {
        if (!known.some((tool) => tool.name === name && tool.version === version)) known.push({ name, version });
      }
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Inspects WebAssembly bytes: a component is fully validated, nested core
 * modules included; a core module is validated by the engine. Throws a
 * ComponentError that says what is wrong with anything else.
 */
export async function inspectWasm(bytes: Uint8Array): Promise<ComponentInfo> {
  const kind = wasmKindOf(bytes);
  if (kind === "module") return inspectModule(bytes);
  const tools = await loadComponentTools();

  let metadata: Awaited<ReturnType<Jco["metadataShow"]>>;
  let wit: string;
  try {
    metadata = await tools.metadataShow(bytes);
    // componentWit validates the component's structure and types (not core function bodies).
    wit = await tools.componentWit(bytes);
  } catch (error) {
    fail("the component is not valid", error);
  }
  // Nested core modules are checked by the engine, one by one, without copying them.
  metadata.forEach((entry, index) => {
    if (entry.metaType.tag !== "module") return;
    const [start, end] = entry.range;
    if (!WebAssembly.validate(bytes.subarray(start, end) as Uint8Array<ArrayBuffer>)) {
      throw new ComponentError(
        "invalid",
        `the component is not valid: its core module #${index} (bytes ${start}..${end}) fails WebAssembly validation`,
      );
    }
  });
  const info: ComponentInfo = { kind, world: worldOfWit(wit), wit };
  const producers = producersOf(metadata.map((entry) => entry.producers));
  if (producers) info.producers = producers;
  return info;
}

async function inspectModule(bytes: Uint8Array): Promise<ComponentInfo> {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    fail("the core module is not valid", error);
  }
  const imports = WebAssembly.Module.imports(module).map((entry) => `${entry.module}#${entry.name}`);
  const exports = WebAssembly.Module.exports(module).map((entry) => entry.name);
  const info: ComponentInfo = { kind: "module", world: { imports, exports }, wit: null };
  try {
    const tools = await loadComponentTools();
    const producers = producersOf((await tools.metadataShow(bytes)).map((entry) => entry.producers));
    if (producers) info.producers = producers;
  } catch {
    // Producers are extra; a module the engine accepts is not refused for them.
  }
  return info;
}

/**
 * The imports and exports of the one world in `wasm-tools component wit`
 * output: `import wasi:cli/environment@0.2.3;` names an interface,
 * `export greet: func(...)` or `import host: interface { ... }` a name.
 */
export function worldOfWit(wit: string): ComponentWorld {
  const world: ComponentWorld = { imports: [], exports: [] };
  const start = wit.search(/^\s*world\s+[%\w-]+\s*\{/m);
  if (start === -1) return world;
  let depth = 0;
  let statement = "";
  for (const char of wit.slice(wit.indexOf("{", start) + 1)) {
    if (char === "{") depth++;
    if (char === "}") {
      if (depth === 0) break;
      depth--;
      if (depth === 0) {
        take(statement);
        statement = "";
      }
      continue;
    }
    if (depth > 0) continue;
    if (char === ";") {
      take(statement);
      statement = "";
    } else {
      statement += char;
    }
  }
  return world;

  function take(text: string): void {
    const match = /^\s*(?:\/\/[^\n]*\n\s*)*(import|export)\s+([^\s;:]+(?::[^\s;:]+)?)/.exec(text);
    if (!match) return;
    let target = match[2]!;
    // `name: func(...)` or `name: interface {` — the name is what comes before the colon.
    const named = /^(%?[\w-]+):\s/.exec(text.slice(text.indexOf(target)));
    if (named) target = named[1]!;
    target = target.replace(/^%/, "");
    (match[1] === "import" ? world.imports : world.exports).push(target);
  }
}

/** `wasi:http/handler@0.2.0` → `wasi:http/handler`; names without a version are unchanged. */
export function interfaceUnversioned(name: string): string {
  const at = name.indexOf("@");
  return at === -1 ? name : name.slice(0, at);
}
