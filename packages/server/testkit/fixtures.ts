/**
 * Real WebAssembly fixtures, built from WAT and WIT with jco in milliseconds:
 * components of any world, core modules, and broken variants of them.
 */
import { randomBytes } from "node:crypto";
import { loadComponentTools } from "@wasm-registry/core";

/** The WIT of the greeter fixture: one imported WASI interface, one exported interface, one exported function. */
export const GREETER_WIT = `package test:greeter@0.1.0;

interface greet {
  greet: func(name: string) -> string;
}

world greeter {
  import wasi:cli/environment@0.2.3;
  export greet;
  export version: func() -> u32;
}

package wasi:cli@0.2.3 {
  interface environment {
    get-arguments: func() -> list<string>;
  }
}
`;

/** A marker constant in the greeter's code, so tests can find (and break) a function body. */
export const GREETER_MARKER = 7_654_321;

/** Core module of the greeter world, in the canonical ABI's names. */
export function greeterWat(seed = 0): string {
  return `(module
  (import "wasi:cli/environment@0.2.3" "get-arguments" (func $get_arguments (param i32)))
  (memory (export "memory") 1)
  (global $seed i32 (i32.const ${seed}))
  (func (export "test:greeter/greet@0.1.0#greet") (param i32 i32) (result i32)
    (i32.store (i32.const 0) (local.get 0))
    (i32.store (i32.const 4) (local.get 1))
    (i32.const 0))
  (func (export "cabi_post_test:greeter/greet@0.1.0#greet") (param i32))
  (func (export "version") (result i32) (i32.const ${GREETER_MARKER}))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
)`;
}

/** The greeter as a component, built from WAT: imports wasi:cli/environment, exports test:greeter/greet and version. */
export async function greeterComponent(seed = 0): Promise<Uint8Array> {
  const jco = await loadComponentTools();
  const core = await jco.parse(greeterWat(seed));
  return jco.componentNew(await jco.componentEmbed({ binary: core, witSource: GREETER_WIT, world: "greeter" }));
}

/**
 * A component of any shape: the world `world` of `wit`, with a stub core
 * module (wasm-tools' "dummy" module) behind it.
 */
export async function componentOfWorld(wit: string, world: string): Promise<Uint8Array> {
  const jco = await loadComponentTools();
  return jco.componentNew(await jco.componentEmbed({ dummy: true, witSource: wit, world }));
}

/** A core module that imports WASI preview 1, as a wasm32-wasip1 build would. */
export async function coreModule(): Promise<Uint8Array> {
  const jco = await loadComponentTools();
  return jco.parse(`(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))`);
}

/** The LEB128 bytes of `i32.const value` (opcode 0x41 then signed LEB128). */
function i32Const(value: number): number[] {
  const bytes = [0x41];
  let rest = value;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The greeter with one instruction in a function body of its nested core
 * module replaced by an undefined opcode: the component's structure and types
 * stay valid, so only validation of the nested module's code can catch it.
 */
export async function greeterWithBrokenCode(): Promise<Uint8Array> {
  const bytes = Uint8Array.from(await greeterComponent(99));
  const at = indexOf(bytes, i32Const(GREETER_MARKER));
  if (at === -1) throw new Error("the marker instruction was not found in the greeter component");
  bytes[at] = 0xff; // not an opcode
  return bytes;
}

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/**
 * A valid component of about `bytes` bytes: the greeter followed by a custom
 * section, which inspection must read past. Its content is random, or, given
 * a seed, the same for the same seed.
 */
export async function paddedComponent(bytes: number, seed?: number): Promise<Uint8Array> {
  const component = await greeterComponent();
  const name = Buffer.from("bench-padding");
  const payload = Math.max(0, bytes - component.length - name.length - 16);
  const body = [...leb128(name.length), ...name];
  const header = Buffer.from([0x00, ...leb128(body.length + payload), ...body]);
  let filler: Buffer;
  if (seed === undefined) filler = randomBytes(payload);
  else {
    filler = Buffer.alloc(payload);
    for (let i = 0; i < payload; i++) filler[i] = (i * 31 + seed * 7) & 0xff;
  }
  return Buffer.concat([component, header, filler]);
}
