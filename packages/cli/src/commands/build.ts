/** `run v2 build [--release] [--component NAME]`: each [[component]] into target/wasm/NAME.wasm. */
import path from "node:path";
import type { Command } from "commander";
import { type BuiltComponent, buildComponent } from "../builder.js";
import { CliError, UsageError } from "../errors.js";
import { green, out } from "../output.js";
import { type Project, loadProject } from "../project.js";

export interface BuildFlags {
  release?: boolean;
  component?: string;
}

export function registerBuild(program: Command): void {
  program
    .command("build")
    .description("build the components of run.toml into target/wasm/NAME.wasm")
    .option("--release", "an optimised build, for the languages whose tools have one")
    .option("--component <name>", "build only this [[component]]")
    .action(async (flags: BuildFlags) => {
      const project = await loadProject();
      await buildProject(project, flags);
    });
}

/** Builds the selected components one by one and says what each one became. Shared with `publish --build`. */
export async function buildProject(project: Project, flags: BuildFlags): Promise<BuiltComponent[]> {
  const all = project.manifest.components;
  if (all.length === 0) throw new CliError(`${project.manifestPath} has no [[component]] to build`);
  const selected = flags.component ? all.filter((c) => c.name === flags.component) : all;
  if (selected.length === 0) {
    throw new UsageError(`run.toml has no [[component]] named "${flags.component}"; it has ${all.map((c) => c.name).join(", ")}`);
  }
  const built: BuiltComponent[] = [];
  for (const component of selected) {
    const result = await buildComponent(project, component, { release: flags.release === true });
    const { imports, exports } = result.info.world;
    out(
      `${green("built")} ${component.name} → ${path.relative(project.dir, result.file)} (${result.size} bytes; ` +
        `imports ${imports.length === 0 ? "nothing" : imports.join(", ")}; exports ${exports.length === 0 ? "nothing" : exports.join(", ")})`,
    );
    built.push(result);
  }
  return built;
}
