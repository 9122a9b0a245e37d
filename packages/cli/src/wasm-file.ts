/**
 * What a .wasm file is, read from its bytes alone: a component or a core
 * module, and its top-level sections. No validation: that is the registry's
 * job at publish time; this answers "what did I just download or build?".
 */
export interface WasmSummary {
  kind: "component" | "core module" | "not WebAssembly";
  size: number;
  /** Top-level section counts by name. */
  sections: Record<string, number>;
  customSections: string[];
}

const COMPONENT_SECTIONS = ["custom", "core module", "core instance", "core type", "component", "instance", "alias", "type", "canon", "start", "import", "export"];
const MODULE_SECTIONS = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "data count", "tag"];

export function summarise(bytes: Uint8Array): WasmSummary {
  const size = bytes.length;
  const magic = bytes.length >= 8 && bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) return { kind: "not WebAssembly", size, sections: {}, customSections: [] };
  const isComponent = bytes[6] === 0x01 && bytes[7] === 0x00 && bytes[4] !== 0x01;
  const names = isComponent ? COMPONENT_SECTIONS : MODULE_SECTIONS;
  const sections: Record<string, number> = {};
  const customSections: string[] = [];
  let at = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length) throw new RangeError("truncated");
      const byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  try {
    while (at < bytes.length) {
      const id = bytes[at++]!;
      const length = leb();
      const end = at + length;
      if (end > bytes.length) throw new RangeError("truncated");
      const name = names[id] ?? `unknown (${id})`;
      sections[name] = (sections[name] ?? 0) + 1;
      if (id === 0) {
        const nameLength = leb();
        customSections.push(new TextDecoder().decode(bytes.subarray(at, at + nameLength)));
      }
      at = end;
    }
  } catch {
    sections["truncated or damaged tail"] = 1;
  }
  return { kind: isComponent ? "component" : "core module", size, sections, customSections };
}
