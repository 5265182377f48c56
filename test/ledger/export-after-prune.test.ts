import { createHash, createPublicKey, verify } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { auditExport, letheIn } from "../helpers/cli.js";
import { until } from "../helpers/wait.js";
import { ledgerProject } from "./helpers.js";

// QA (issue 9, trust): after `audit prune`, `audit export` began at the first kept entry and said nothing of the
// anchor, so an auditor could neither tie that entry's prevHash to anything signed nor recompute the root of any
// later checkpoint. The export now starts with the anchor. Checked here with code written from docs/ledger.md
// (entry hash, RFC 6962 leaves and nodes, the anchor and checkpoint messages), not with lethe's.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const hex = (s: string) => Buffer.from(s, "hex");
const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);

/** Appends a leaf to a frontier of perfect-subtree roots (largest first), merging equal sizes. */
function push(frontier: { h: Buffer; n: number }[], leaf: Buffer): void {
  let cur = { h: leaf, n: 1 };
  while (frontier.length > 0 && frontier[frontier.length - 1]?.n === cur.n) {
    const left = frontier.pop() as { h: Buffer; n: number };
    cur = { h: node(left.h, cur.h), n: cur.n * 2 };
  }
  frontier.push(cur);
}

/** RFC 6962 root from the perfect subtrees of a tree, folded right to left. */
function rootOf(frontier: { h: Buffer }[]): string {
  let r = frontier[frontier.length - 1]?.h as Buffer;
  for (let i = frontier.length - 2; i >= 0; i--) r = node(frontier[i]?.h as Buffer, r);
  return r.toString("hex");
}

type Line = Record<string, unknown> & { anchor?: Record<string, unknown> };

describe("audit export of a pruned ledger", () => {
  it("starts with the signed anchor, from which a third party recomputes the chain and a later checkpoint", async () => {
    const p = ledgerProject("./.lethe", (c) => cleanups.push(c));
    const l = await p.open();
    for (let i = 0; i < 5; i++) await l.ledger.append([{ action: "hold_added", reason: `r${i}` }]);
    const last = Date.now();
    const cut = await until(async () => Date.now() > last && new Date(), 5_000, 1);
    await until(async () => Date.now() > cut.getTime(), 5_000, 1);
    expect(await l.audit.prune({ before: cut, yes: true })).toMatchObject({ pruned: 5 });
    await l.ledger.append([{ action: "deleted", dataset: "logs", key: 7, subject: "user-7" }]);
    const cp = await l.audit.checkpoint();
    const pem = l.audit.publicKey();
    await l.close();

    const lines = await auditExport<Line>(p.dir);
    const anchor = lines[0]?.anchor as {
      size: number;
      hash: string;
      frontier: string[];
      root: string;
      before: string;
      at: string;
      signature: string;
    };
    expect(anchor).toMatchObject({ size: 5 });
    const key = createPublicKey(pem);
    const anchorMsg = `lethe-anchor/v1\n${anchor.size}\n${anchor.hash}\n${anchor.root}\n${anchor.frontier.join(",")}\n${anchor.before}\n${anchor.at}\n`;
    expect(verify(null, Buffer.from(anchorMsg), key, Buffer.from(anchor.signature, "base64"))).toBe(true);

    // The anchor's frontier is the decomposition of `size` leaves into perfect subtrees, largest first.
    const sizes = [...anchor.size.toString(2)].map((b, i, a) => (b === "1" ? 2 ** (a.length - 1 - i) : 0));
    const frontier = anchor.frontier.map((h, i) => ({ h: hex(h), n: sizes.filter((s) => s > 0)[i] as number }));
    expect(rootOf(frontier)).toBe(anchor.root);
    let prev = anchor.hash;
    let size = anchor.size;
    let checked = false;
    for (const e of lines.slice(1)) {
      if (e.item !== undefined) continue;
      const canonical = JSON.stringify([
        e.seq,
        e.at,
        e.action,
        e.dataset ?? null,
        e.key === undefined ? null : String(e.key),
        e.keyHash ?? null,
        e.subjectHash ?? null,
        e.reason ?? null,
        e.runId ?? null,
        e.data === undefined ? null : JSON.stringify(e.data),
      ]);
      expect(e.prevHash).toBe(prev);
      const h = sha(Buffer.from(prev), Buffer.from(canonical, "utf8")).toString("hex");
      expect(h).toBe(e.hash);
      push(frontier, sha(Buffer.from([0]), hex(h)));
      prev = h;
      size += 1;
      if (size === cp.size) {
        expect(rootOf(frontier)).toBe(cp.root);
        checked = true;
      }
    }
    expect(checked).toBe(true);
    const cpMsg = `lethe-checkpoint/v1\n${cp.size}\n${cp.root}\n${cp.at}\n`;
    expect(verify(null, Buffer.from(cpMsg), key, Buffer.from(cp.signature, "base64"))).toBe(true);
    // The CSV keeps its columns: one entry per row, no anchor row.
    const csv = await letheIn(["audit", "export", "--format", "csv"], p.dir);
    expect(csv.stdout.split("\n")[1]).toMatch(/^6,/);
  });
});
