import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { DEFAULT_CHUNK } from "../../src/transient/chunk-format.js";
import type { Workspace } from "../../src/transient/workspace.js";
import { cipherFiles, errCode, useTransientProjects, workspaceDirs } from "./helpers.js";

const { start } = useTransientProjects();

describe("lethe.transient: at-rest format", () => {
  async function tamper(mutate: (file: string, ws: Workspace) => void, chunkSize = 1000): Promise<string | undefined> {
    const { lethe } = await start();
    return lethe.transient(
      "req-t",
      async (ws) => {
        await ws.write("data.bin", randomBytes(4500));
        await ws.write("other.bin", randomBytes(4500));
        const target = await locate(ws, "data.bin");
        mutate(target, ws);
        const viaRead = await errCode(ws.read("data.bin"));
        const chunks: Buffer[] = [];
        const viaStream = await errCode(
          pipeline(ws.createReadStream("data.bin"), async (src) => {
            for await (const c of src) chunks.push(c as Buffer);
          }),
        );
        expect(viaStream).toBe(viaRead);
        return viaRead;
      },
      { chunkSize },
    );
  }

  /** The on-disk file of `name`: the one that changes when only `name` is rewritten. */
  async function locate(ws: Workspace, name: string): Promise<string> {
    const before = new Map(cipherFiles(ws).map((f) => [f, readFileSync(f)]));
    await ws.write(name, await ws.read(name));
    const changed = cipherFiles(ws).filter((f) => !before.get(f)?.equals(readFileSync(f)));
    expect(changed).toHaveLength(1);
    return changed[0] as string;
  }

  const RECORD = 1000 + 28;
  it("round-trips at and around chunk boundaries, empty included", async () => {
    const { lethe } = await start();
    await lethe.transient(
      "req-sizes",
      async (ws) => {
        for (const n of [0, 1, 999, 1000, 1001, 3000, 4567]) {
          const data = randomBytes(n);
          await ws.write(`f${n}`, data);
          expect((await ws.read(`f${n}`)).equals(data)).toBe(true);
          const parts: Buffer[] = [];
          for await (const c of ws.createReadStream(`f${n}`)) parts.push(c as Buffer);
          expect(Buffer.concat(parts).equals(data)).toBe(true);
        }
      },
      { chunkSize: 1000 },
    );
  });

  it("an untouched file opens (the harness itself is sound)", async () => {
    expect(await tamper(() => undefined)).toBeUndefined();
  });
  it("a flipped bit in a chunk's data fails", async () => {
    expect(await tamper((f) => flipAt(f, 8 + RECORD + 12 + 10))).toBe("CRYPTO_ERROR");
  });
  it("a flipped bit in a nonce fails", async () => {
    expect(await tamper((f) => flipAt(f, 8 + 2 * RECORD + 3))).toBe("CRYPTO_ERROR");
  });
  it("a flipped bit in a tag fails", async () => {
    expect(await tamper((f) => flipAt(f, 8 + RECORD - 1))).toBe("CRYPTO_ERROR");
  });
  it("a flipped bit in the header (part of every chunk's AAD) fails", async () => {
    expect(await tamper((f) => flipAt(f, 7))).toBe("CRYPTO_ERROR");
  });
  it("truncation at a chunk boundary (dropping the final chunk) fails", async () => {
    expect(await tamper((f) => writeFileSync(f, readFileSync(f).subarray(0, 8 + 4 * RECORD)))).toBe("CRYPTO_ERROR");
  });
  it("truncation inside a chunk fails", async () => {
    expect(await tamper((f) => writeFileSync(f, readFileSync(f).subarray(0, readFileSync(f).length - 5)))).toBe(
      "CRYPTO_ERROR",
    );
  });
  it("reordered chunks fail", async () => {
    expect(
      await tamper((f) => {
        const b = readFileSync(f);
        const r1 = b.subarray(8, 8 + RECORD);
        const r2 = b.subarray(8 + RECORD, 8 + 2 * RECORD);
        writeFileSync(f, Buffer.concat([b.subarray(0, 8), r2, r1, b.subarray(8 + 2 * RECORD)]));
      }),
    ).toBe("CRYPTO_ERROR");
  });
  it("an appended copy of a chunk fails", async () => {
    expect(
      await tamper((f) => writeFileSync(f, Buffer.concat([readFileSync(f), readFileSync(f).subarray(8, 8 + RECORD)]))),
    ).toBe("CRYPTO_ERROR");
  });
  it("1-27 bytes appended to a file of whole default chunks fail as CRYPTO_ERROR, not a RangeError", async () => {
    const { lethe } = await start();
    await lethe.transient("req-append", async (ws) => {
      for (const n of [DEFAULT_CHUNK, 2 * DEFAULT_CHUNK])
        for (const extra of [1, 5, 27]) {
          const name = `whole-${n}-${extra}`;
          const before = new Set(cipherFiles(ws));
          await ws.write(name, Buffer.alloc(n));
          const added = cipherFiles(ws).filter((f) => !before.has(f));
          expect(added, name).toHaveLength(1);
          const sealed = added[0] as string;
          expect(statSync(sealed).size, name).toBe(8 + n + (n / DEFAULT_CHUNK) * 28);
          writeFileSync(sealed, Buffer.concat([readFileSync(sealed), Buffer.alloc(extra, 0x5a)]));
          expect(await errCode(ws.read(name)), name).toBe("CRYPTO_ERROR");
          const viaStream = await errCode(
            pipeline(ws.createReadStream(name), async (src) => {
              for await (const _ of src);
            }),
          );
          expect(viaStream, name).toBe("CRYPTO_ERROR");
        }
    });
  });
  it("a file moved onto another name fails", async () => {
    expect(
      await tamper((f, ws) => {
        const other = cipherFiles(ws).find((x) => x !== f) as string;
        copyFileSync(other, f);
      }),
    ).toBe("CRYPTO_ERROR");
  });

  it("streams a large input in chunks and reads it back", async () => {
    const { lethe } = await start();
    const data = randomBytes(5 * 1024 * 1024 + 333);
    await lethe.transient("req-stream", async (ws) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < data.length; i += 77_777) parts.push(data.subarray(i, i + 77_777));
      await pipeline(Readable.from(parts), ws.createWriteStream("big.bin"));
      const size = statSync(await locateStream(ws)).size;
      expect(size).toBe(8 + data.length + Math.ceil(data.length / DEFAULT_CHUNK) * 28);
      const back: Buffer[] = [];
      for await (const c of ws.createReadStream("big.bin")) back.push(c as Buffer);
      expect(Buffer.concat(back).equals(data)).toBe(true);
      expect((await ws.read("big.bin")).equals(data)).toBe(true);
    });
  });
});

async function locateStream(ws: Workspace): Promise<string> {
  return cipherFiles(ws)[0] as string;
}

function flipAt(file: string, at: number): void {
  const b = readFileSync(file);
  b[at] = (b[at] as number) ^ 0x01;
  writeFileSync(file, b);
}

describe("on a memory-backed root (tmpfs: synchronous whole-file I/O)", () => {
  it("round-trips small and large files, catches tampering, and shreds everything", async () => {
    const root = join("/dev/shm", `lethe-test-${randomBytes(6).toString("hex")}`);
    const { lethe } = await start({ extra: { transient: { root, ttl: "1m" } } });
    try {
      let dir = "";
      await lethe.transient(
        "req-tmpfs",
        async (ws) => {
          dir = ws.dir;
          for (const n of [0, 1, 999, 1000, 1001, 6 * 1024 * 1024 + 5]) {
            const data = randomBytes(n);
            await ws.write(`f${n}`, data);
            expect((await ws.read(`f${n}`)).equals(data)).toBe(true);
          }
          const target = readdirSync(ws.dir)
            .map((n) => join(ws.dir, n))
            .find((f) => statSync(f).size === 8 + 1001 + 2 * 28) as string;
          flipAt(target, 8 + 1028 + 13);
          expect(await errCode(ws.read("f1001"))).toBe("CRYPTO_ERROR");
          expect(await errCode(ws.read("f999"))).toBeUndefined();
        },
        { chunkSize: 1000 },
      );
      expect(existsSync(dir)).toBe(false);
      expect(workspaceDirs(root)).toEqual([]);
      const closed = (await lethe.audit.log({})).find((e) => e.action === "workspace_closed");
      expect(closed?.data).toMatchObject({ outcome: "ok", files: 6, unshredded: 0 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
