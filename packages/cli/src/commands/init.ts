/**
 * `run v2 init NAME [--language wat|javascript]`: a starter project that
 * `run v2 build` and `run v2 publish` accept as it is. NAME is `namespace` or
 * `namespace:component`; the folder is named after the component.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { nameProblem } from "@wasm-registry/core";
import { CliError, UsageError } from "../errors.js";
import { green, out } from "../output.js";

interface InitFlags {
  language?: string;
}

const WIT_IDENTIFIER = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/;

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create a starter component project: run.toml, a WIT world and a small source")
    .argument("<name>", "namespace, or namespace:component (e.g. alice:hello)")
    .option("--language <language>", "wat (builds in milliseconds) or javascript (componentize-js)", "wat")
    .action(async (name: string, flags: InitFlags) => {
      const [namespace, component = "hello"] = name.split(":", 2) as [string, string?];
      const problem = nameProblem(`${namespace}:${component}`);
      if (problem) throw new UsageError(problem);
      for (const part of [namespace, component]) {
        if (!WIT_IDENTIFIER.test(part)) throw new UsageError(`"${part}" must be lowercase words joined by "-" (a WIT identifier), such as my-org`);
      }
      const language = (flags.language ?? "wat").toLowerCase();
      if (language !== "wat" && language !== "javascript") throw new UsageError(`--language must be wat or javascript, not "${flags.language}"`);
      const dir = path.resolve(component);
      if (await fs.stat(dir).then(() => true, () => false)) {
        throw new CliError(`${dir} already exists; choose another name or remove it`);
      }
      const source = language === "wat" ? `src/${component}.wat` : `src/${component}.js`;
      const files: Record<string, string> = {
        "run.toml": runToml(namespace, component, language, source),
        "wit/world.wit": worldWit(namespace, component),
        [source]: language === "wat" ? WAT_SOURCE : JS_SOURCE,
        ".gitignore": "target/\n.run/\n",
      };
      for (const [file, text] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await fs.writeFile(path.join(dir, file), text, { flag: "wx" });
      }
      out(`${green("created")} ${path.relative(process.cwd(), dir) || "."}: ${Object.keys(files).join(", ")}`);
      out(`next: cd ${component} && run v2 build && run v2 publish`);
    });
}

function runToml(namespace: string, component: string, language: string, source: string): string {
  return `[project]
name = "${namespace}"
version = "0.1.0"
description = "A WASI component that greets"
license = "Apache-2.0"

[[component]]
name = "${component}"
language = "${language}"
source = "${source}"
wit = "wit/world.wit"

[dependencies]
`;
}

function worldWit(namespace: string, component: string): string {
  return `package ${namespace}:${component}@0.1.0;

world ${component} {
  /// Answers a greeting for \`name\`.
  export greet: func(name: string) -> string;
}
`;
}

/** greet(name) answers "Hello from WebAssembly!" (canonical ABI by hand: the string's pointer and length at 16). */
const WAT_SOURCE = `(module
  (memory (export "memory") 1)
  (data (i32.const 64) "Hello from WebAssembly!")
  (global $heap (mut i32) (i32.const 1024))

  ;; greet: func(name: string) -> string. Returns a pointer to (pointer, length) of the answer.
  (func (export "greet") (param $name i32) (param $len i32) (result i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 23))
    (i32.const 16))
  (func (export "cabi_post_greet") (param i32))

  ;; The host copies the name in here: a bump allocator is enough for one call.
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                            (i32.xor (i32.sub (local.get $align) (i32.const 1)) (i32.const -1))))
    (global.set $heap (i32.add (local.get $at) (local.get $size)))
    (local.get $at))
)
`;

const JS_SOURCE = `// greet: func(name: string) -> string, from wit/world.wit
export function greet(name) {
  return \`Hello, \${name}!\`;
}
`;
