/**
 * Regroups a byte stream into batches of whole lines of about `batchBytes`.
 * Detectors then run once per batch instead of once per line (a regex call
 * per line would cost more than the scan), and no match is cut at a batch
 * edge. A line longer than `maxLine` is cut there: a file with no newlines
 * must not be buffered whole.
 *
 * @example
 * for await (const batch of lineBatches(createReadStream("app.log"))) scan(batch.toString("latin1"));
 */
export async function* lineBatches(
  source: AsyncIterable<Buffer>,
  batchBytes = 1 << 20,
  maxLine = 16 << 20,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      pending.push(chunk);
      size += chunk.length;
      if (size < batchBytes) continue;
      const buf = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, size);
      const nl = buf.lastIndexOf(10);
      if (nl === -1 && size < maxLine) {
        pending = [buf];
        continue;
      }
      const cut = nl === -1 ? buf.length : nl + 1;
      yield buf.subarray(0, cut);
      const rest = buf.subarray(cut);
      pending = rest.length > 0 ? [rest] : [];
      size = rest.length;
    }
  } catch (err) {
    // A truncated .gz or a read error: what was read still gets scanned,
    // then the error is reported.
    if (size > 0) yield Buffer.concat(pending, size);
    throw err;
  }
  if (size > 0) yield pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, size);
}
