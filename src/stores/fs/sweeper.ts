import { Worker } from "node:worker_threads";
import { LetheError } from "../../core/errors.js";
import { workerFile } from "../../core/package-file.js";
import type { SweepOutcome, SweepRequest } from "./sweep.js";

type Reply = { id: number; outcomes?: SweepOutcome[]; error?: string };

/**
 * One worker thread per fs store that removes large batches (sweep.ts) while the main thread goes on
 * (recording the previous batch, reading the next one). Started on first use, kept for the store's life
 * without holding the process open while idle, ended by `close()`. A worker that dies mid-batch rejects
 * the batch: its intent stays open and the next run's reconcile settles what was removed.
 *
 * @example
 * const outcomes = await sweeper.run({ root, keys, action: "delete" }, () => readNextBatch());
 */
export class FsSweeper {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (o: SweepOutcome[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  /** Sends the batch, then runs `meanwhile` on this thread while the worker removes it. */
  async run(req: SweepRequest, meanwhile?: () => void): Promise<SweepOutcome[]> {
    const worker = this.start();
    const id = this.nextId++;
    const done = new Promise<SweepOutcome[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) worker.ref();
    worker.postMessage({ ...req, id });
    meanwhile?.();
    return done;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Not the parent's flags (a test runner's loader hooks, inspector): the worker needs none.
    const w = new Worker(workerFile("stores/fs/sweep-worker.js", "the fs sweep worker"), { execArgv: [] });
    w.unref();
    w.on("message", (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.outcomes) p.resolve(m.outcomes);
      else p.reject(new LetheError("INTERNAL", `fs sweep failed: ${m.error ?? "unknown error"}`));
    });
    const fail = (why: string) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new LetheError("INTERNAL", `fs sweep worker ${why}`));
      this.pending.clear();
    };
    w.on("error", (err) => fail(`failed: ${err.message}`));
    w.on("exit", (code) => fail(`exited (${code}) before answering`));
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
