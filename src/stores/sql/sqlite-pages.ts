import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/**
 * Tells whether a byte range of a SQLite database file lies inside a live
 * cell (current data of some row or index entry) or anywhere else — free
 * space inside a page, a freelist page, an overflow page or past the end of
 * the database — following the documented file format
 * (https://sqlite.org/fileformat2.html). Used after an erasure: a match of an
 * erased value inside a live cell is someone's current data (another row
 * holding the same text, or a longer value containing it); anywhere else it
 * is a leftover copy that must be rewritten away. Everything not provably
 * live counts as a leftover, so a doubt costs a VACUUM, never a missed copy.
 *
 * @example
 * const pages = new SqlitePages("/data/app.db");
 * pages.isLive(123456, 40); // false: the bytes sit in free space
 * pages.close();
 */
export class SqlitePages {
  private readonly fd: number;
  private readonly pageSize: number;
  private readonly usable: number;
  private readonly pageCount: number;
  private readonly freelist = new Set<number>();
  private readonly cells = new Map<number, [number, number][] | undefined>();

  constructor(path: string) {
    this.fd = openSync(path, "r");
    const h = this.read(0, 100);
    const raw = h.readUInt16BE(16);
    this.pageSize = raw === 1 ? 65_536 : raw;
    this.usable = this.pageSize - (h[20] ?? 0);
    // The header's page count is valid when its version matches the change counter (always in WAL mode).
    const counted = h.readUInt32BE(92) === h.readUInt32BE(24) ? h.readUInt32BE(28) : 0;
    this.pageCount = counted > 0 ? counted : Math.floor(fstatSync(this.fd).size / this.pageSize);
    this.readFreelist(h.readUInt32BE(32), h.readUInt32BE(36));
  }

  close(): void {
    closeSync(this.fd);
  }

  /** True only when [offset, offset + length) lies wholly inside one live b-tree cell. */
  isLive(offset: number, length: number): boolean {
    const pgno = Math.floor(offset / this.pageSize) + 1;
    const start = offset - (pgno - 1) * this.pageSize;
    if (Math.floor((offset + length - 1) / this.pageSize) + 1 !== pgno) return false; // spans two pages
    const cells = this.cellsOf(pgno);
    return cells?.some(([a, b]) => start >= a && start + length <= b) ?? false;
  }

  private read(pos: number, len: number): Buffer {
    const buf = Buffer.alloc(len);
    readSync(this.fd, buf, 0, len, pos);
    return buf;
  }

  private readFreelist(first: number, total: number): void {
    let trunk = first;
    // Bounded by the header's count, so a damaged chain cannot loop forever.
    while (trunk !== 0 && this.freelist.size <= total && trunk <= this.pageCount) {
      this.freelist.add(trunk);
      const page = this.read((trunk - 1) * this.pageSize, this.pageSize);
      const leaves = page.readUInt32BE(4);
      for (let i = 0; i < leaves && 8 + 4 * i + 4 <= this.usable; i++) this.freelist.add(page.readUInt32BE(8 + 4 * i));
      trunk = page.readUInt32BE(0);
    }
  }

  /** Live cell ranges of a b-tree page; undefined for any other page (nothing in it counts as live). */
  private cellsOf(pgno: number): [number, number][] | undefined {
    if (this.cells.has(pgno)) return this.cells.get(pgno);
    let out: [number, number][] | undefined;
    if (pgno <= this.pageCount && !this.freelist.has(pgno))
      out = this.parse(this.read((pgno - 1) * this.pageSize, this.pageSize), pgno);
    this.cells.set(pgno, out);
    return out;
  }

  private parse(page: Buffer, pgno: number): [number, number][] | undefined {
    const hdr = pgno === 1 ? 100 : 0;
    const type = page[hdr];
    if (type !== 2 && type !== 5 && type !== 10 && type !== 13) return undefined; // overflow, ptrmap…
    const interior = type === 2 || type === 5;
    const n = page.readUInt16BE(hdr + 3);
    const ptrs = hdr + (interior ? 12 : 8);
    const out: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const at = page.readUInt16BE(ptrs + 2 * i);
      const size = this.cellSize(page, at, type);
      if (size === undefined || at + size > this.usable) return undefined; // not a page we understand: no trust
      out.push([at, at + size]);
    }
    return out;
  }

  private cellSize(page: Buffer, at: number, type: number): number | undefined {
    let p = at;
    if (type === 5) return 4 + varint(page, p + 4).len; // child page + rowid, no payload
    if (type === 2) p += 4; // child page before the payload
    const payload = varint(page, p);
    p += payload.len;
    if (type === 13) p += varint(page, p).len; // rowid
    const local = this.localSize(payload.value, type === 13);
    return p - at + local + (local < payload.value ? 4 : 0);
  }

  /** Bytes of a payload stored on the page itself (the rest goes to overflow pages). */
  private localSize(p: number, tableLeaf: boolean): number {
    const u = this.usable;
    const x = tableLeaf ? u - 35 : Math.floor(((u - 12) * 64) / 255) - 23;
    if (p <= x) return p;
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((p - m) % (u - 4));
    return k <= x ? k : m;
  }
}

function varint(buf: Buffer, at: number): { value: number; len: number } {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const b = buf[at + i] ?? 0;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) return { value: v, len: i + 1 };
  }
  return { value: v * 256 + (buf[at + 8] ?? 0), len: 9 };
}
