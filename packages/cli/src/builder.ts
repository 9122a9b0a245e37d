/**
 * Builds one [[component]] of run.toml into target/wasm/NAME.wasm, by its
 * `language`. The heavy tools (jco's wasm-tools, componentize-js) load only
 * when a build needs them; builds for other languages shell out to their own
 * toolchains when those are installed. Every output is checked to be a valid
 * component before it is written.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { ComponentError, type ComponentInfo, type ComponentSpec, inspectWasm, loadComponentTools } from "@wasm-registry/core";
import { CliError } from "./errors.js";
import { type Project, writeFileAtomic } from "./project.js";

export interface BuildOptions {
  release: boolean;
}

export interface BuiltComponent {
  name: string;
  file: string;
  size: number;
  info: ComponentInfo;
}

export function outputPath(project: Project, name: string): string {
  return path.join(project.dir, "target", "wasm", `${name}.wasm`);
}

const SOURCE_EXTENSIONS: Record<string, string> = { wat: "wat", wasm: "wat", javascript: "js", typescript: "ts" };

export async function buildComponent(project: Project, component: ComponentSpec, options: BuildOptions): Promise<BuiltComponent> {
  const language = (component.language ?? "").toLowerCase();
  const where = `[[component]] "${component.name}"`;
  if (!language) throw new CliError(`${where} has no \`language\`; set one of wat, wasm, javascript, typescript, rust, python, go`);
  const resolve = (file: string) => path.resolve(project.dir, file);
  const source = resolve(component.source ?? path.join("src", `${component.name}.${SOURCE_EXTENSIONS[language] ?? "src"}`));
  const wit = component.wit === undefined ? undefined : resolve(component.wit);
  const out = outputPath(project, component.name);

  let bytes: Uint8Array;
  switch (language) {
    case "wat":
    case "wasm":
      bytes = await buildWat(source, wit, where);
      break;
    case "javascript":
    case "js":
    case "typescript":
    case "ts":
      bytes = await buildJavaScript(source, requireWit(wit, where), language.startsWith("t"), where);
      break;
    case "rust":
      bytes = await buildRust(project, component.name, options);
      break;
    case "python":
      bytes = await buildPython(project, source, requireWit(wit, where), out);
      break;
    case "go":
      bytes = await buildGo(project, source, requireWit(wit, where), out);
      break;
    default:
      throw new CliError(`${where} has language "${component.language}", which run cannot build; use wat, wasm, javascript, typescript, rust, python or go`);
  }

  let info: ComponentInfo;
  try {
    info = await inspectWasm(bytes);
  } catch (error) {
    if (error instanceof ComponentError) throw new CliError(`the build of ${where} produced an invalid file: ${error.message}`);
    throw error;
  }
  if (info.kind !== "component") {
    throw new CliError(`the build of ${where} produced a core module, not a component; give it a \`wit\` world so run can make a component of it`);
  }
  await fs.mkdir(path.dirname(out), { recursive: true });
  await writeFileAtomic(out, bytes);
  return { name: component.name, file: out, size: bytes.length, info };
}

function requireWit(wit: string | undefined, where: string): string {
  if (!wit) throw new CliError(`${where} needs \`wit\`: the WIT file (or folder) whose world the component implements`);
  return wit;
}

async function readSource(file: string, where: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CliError(`${where}: its source ${file} does not exist; set \`source\` in run.toml`);
    }
    throw new CliError(`${where}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The WIT as one text: a .wit file, or a folder holding exactly one .wit file. */
async function witSource(wit: string, where: string): Promise<string> {
  let file = wit;
  const stat = await fs.stat(wit).catch(() => undefined);
  if (!stat) throw new CliError(`${where}: its wit ${wit} does not exist`);
  if (stat.isDirectory()) {
    const files = (await fs.readdir(wit)).filter((name) => name.endsWith(".wit"));
    if (files.length !== 1) {
      throw new CliError(`${where}: a \`wit\` folder must hold exactly one .wit file for a WAT build (${wit} has ${files.length}); point \`wit\` at the file`);
    }
    file = path.join(wit, files[0]!);
  }
  return fs.readFile(file, "utf8");
}

/** WAT text (or a .wasm file) → core module → component with the WIT world embedded. */
async function buildWat(source: string, wit: string | undefined, where: string): Promise<Uint8Array> {
  const jco = await loadComponentTools();
  const raw = await readSource(source, where);
  let binary: Uint8Array;
  try {
    binary = source.endsWith(".wasm") ? new Uint8Array(raw) : await jco.parse(raw.toString("utf8"));
  } catch (error) {
    throw new CliError(`${where}: ${source} is not valid WAT: ${watProblem(error)}`);
  }
  if (binary[4] !== 0x01) return binary; // already a component (WAT can describe one directly)
  if (!wit) throw new CliError(`${where}: ${source} is a core module; set \`wit\` to the world it implements so run can make a component of it`);
  try {
    const embedded = await jco.componentEmbed({ binary, witSource: await witSource(wit, where) });
    return await jco.componentNew(embedded);
  } catch (error) {
    throw new CliError(`${where}: making a component of ${path.basename(source)} with ${path.basename(wit)} failed: ${oneLine(error)}`);
  }
}

/** componentize-js: StarlingMonkey plus the module, as a component of the WIT world (3 to 8 s). */
async function buildJavaScript(source: string, wit: string, typescript: boolean, where: string): Promise<Uint8Array> {
  await readSource(source, where);
  let sourcePath = source;
  let cleanup: string | undefined;
  if (typescript) {
    const ts = await import("typescript").catch(() => {
      throw new CliError(`${where}: building TypeScript needs the typescript package: npm install typescript`);
    });
    const output = ts.default.transpileModule(await fs.readFile(source, "utf8"), {
      compilerOptions: { module: ts.default.ModuleKind.ESNext, target: ts.default.ScriptTarget.ES2022 },
    });
    sourcePath = cleanup = source.replace(/\.[cm]?tsx?$/, "") + ".run-build.js";
    await fs.writeFile(sourcePath, output.outputText);
  }
  try {
    // preview2-shim starts with no preopened folders, so componentize-js could not read the WIT (os error 44).
    const { _setPreopens } = (await import("@bytecodealliance/preview2-shim/filesystem")) as unknown as {
      _setPreopens(preopens: Record<string, string>): void;
    };
    _setPreopens({ "/": "/" });
    const { componentize } = await import("@bytecodealliance/componentize-js");
    const { component } = await componentize({ sourcePath, witPath: wit });
    return component;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${where}: componentize-js failed: ${oneLine(error)}`);
  } finally {
    if (cleanup) await fs.rm(cleanup, { force: true });
  }
}

function hasTool(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function runTool(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) throw new CliError(`${command} ${args.join(" ")} failed${result.status === null ? "" : ` with exit code ${result.status}`}`);
}

async function buildRust(project: Project, name: string, options: BuildOptions): Promise<Uint8Array> {
  if (!hasTool("cargo") || spawnSync("cargo", ["component", "--version"], { stdio: "ignore" }).status !== 0) {
    throw new CliError(
      "building a Rust component needs cargo-component, which is not installed: install Rust from https://rustup.rs, " +
        "then run `rustup target add wasm32-wasip1 && cargo install cargo-component`",
    );
  }
  runTool("cargo", ["component", "build", ...(options.release ? ["--release"] : [])], project.dir);
  const file = path.join(project.dir, "target", "wasm32-wasip1", options.release ? "release" : "debug", `${name.replaceAll("-", "_")}.wasm`);
  return new Uint8Array(await fs.readFile(file));
}

async function buildPython(project: Project, source: string, wit: string, out: string): Promise<Uint8Array> {
  if (!hasTool("componentize-py")) {
    throw new CliError("building a Python component needs componentize-py, which is not installed: run `pip install componentize-py`");
  }
  const temp = `${out}.py-build`;
  await fs.mkdir(path.dirname(out), { recursive: true });
  runTool("componentize-py", ["-d", wit, "componentize", "-p", path.dirname(source), path.basename(source, ".py"), "-o", temp], project.dir);
  try {
    return new Uint8Array(await fs.readFile(temp));
  } finally {
    await fs.rm(temp, { force: true });
  }
}

async function buildGo(project: Project, source: string, wit: string, out: string): Promise<Uint8Array> {
  const missing = ["tinygo", "wasm-tools"].filter((tool) => !hasTool(tool));
  if (missing.length > 0) {
    throw new CliError(
      `building a Go component needs ${missing.join(" and ")}, not installed: get TinyGo from https://tinygo.org/getting-started/install/ ` +
        "and wasm-tools with `cargo install wasm-tools` (or from https://github.com/bytecodealliance/wasm-tools/releases)",
    );
  }
  const temp = `${out}.go-build`;
  await fs.mkdir(path.dirname(out), { recursive: true });
  runTool("tinygo", ["build", "-target=wasip2", "--wit-package", wit, "-o", temp, source], project.dir);
  try {
    return new Uint8Array(await fs.readFile(temp));
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * wasm-tools reports a WAT error as the Rust debug form of its error value;
 * this turns it into what a compiler prints: line:column, the message, and
 * the line with a caret under the place. Anything else is left as it is.
 */
export function watProblem(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const where = /Text \{ line: (\d+), col: (\d+), snippet: "((?:[^"\\]|\\.)*)" \}/.exec(text);
  const message = /kind: Custom\("((?:[^"\\]|\\.)*)"\)/.exec(text);
  if (!where || !message) return oneLine(error);
  const unescape = (value: string) => value.replace(/\\(.)/g, "$1");
  const [line, column] = [Number(where[1]) + 1, Number(where[2]) + 1];
  const snippet = unescape(where[3]!);
  return `line ${line}, column ${column}: ${unescape(message[1]!)}\n    ${snippet}\n    ${" ".repeat(column - 1)}^`;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
}
