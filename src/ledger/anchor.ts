import type { StateHandle } from "../state/open-state.js";
import { verifyBytes } from "./signing.js";

/**
 * What a pruned ledger keeps of the removed prefix: how many entries there
 * were (`size`), the hash of the last one (the next entry's `prevHash`), the
 * Merkle frontier and root over them, and an Ed25519 signature over it all.
 * Verification starts from here instead of from the genesis.
 */
export interface Anchor {
  size: number;
  hash: string;
  frontier: string[];
  root: string;
  /** Entries before this instant were pruned. */
  before: string;
  at: string;
  signature: string;
  /** The signing key (absent on anchors made before key rotation existed). */
  keyId?: string;
}

/** The fixed text that is signed, so any Ed25519 implementation can check an anchor offline. */
export function anchorMessage(a: Omit<Anchor, "signature" | "keyId">): Buffer {
  return Buffer.from(
    `lethe-anchor/v1\n${a.size}\n${a.hash}\n${a.root}\n${a.frontier.join(",")}\n${a.before}\n${a.at}\n`,
  );
}

export function verifyAnchor(publicPem: string, a: Anchor): boolean {
  return verifyBytes(publicPem, anchorMessage(a), a.signature);
}

/**
 * The newest anchor (the one verification starts from), if the ledger was ever pruned.
 *
 * @example
 * const a = await latestAnchor(state); // undefined before the first prune
 */
export async function latestAnchor(state: Pick<StateHandle, "db">): Promise<Anchor | undefined> {
  const row = await state.db
    .selectFrom("ledger_anchors")
    .selectAll()
    .orderBy("size", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  const { key_id, ...rest } = row;
  return {
    ...rest,
    size: Number(row.size),
    frontier: JSON.parse(row.frontier) as string[],
    ...(key_id ? { keyId: key_id } : {}),
  };
}
