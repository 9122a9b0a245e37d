/**
 * Download progress: a bar redrawn in place on a terminal, one plain line
 * per finished item otherwise (logs and CI get readable text, not escapes).
 */
import { isInteractive, note } from "./output.js";

const WIDTH = 24;

export class Progress {
  private done = 0;
  private readonly live = isInteractive();

  constructor(
    private readonly total: number,
    private readonly verb: string,
  ) {
    if (this.live && total > 0) this.draw("");
  }

  finished(label: string): void {
    this.done++;
    if (this.live) this.draw(label);
    else note(`${this.verb} ${label}`);
  }

  /** Leaves the terminal on a clean line before anything else is printed. */
  end(): void {
    if (this.live && this.total > 0) process.stderr.write("\r\x1b[2K");
  }

  private draw(label: string): void {
    const filled = Math.round((this.done / this.total) * WIDTH);
    const bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
    process.stderr.write(`\r\x1b[2K[${bar}] ${this.done}/${this.total} ${label}`);
  }
}
