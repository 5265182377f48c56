import { randomBytes } from "node:crypto";
import { loadConfigFile, parseConfig } from "./config/load.js";
import { resolveSecret } from "./config/secrets.js";
import type { LetheConfig } from "./config/types.js";
import { DataMap } from "./core/data-map.js";
import { Holds } from "./core/holds.js";
import { makePlan, type Plan, type PlanOptions } from "./core/planner.js";
import { reconcile } from "./core/reconcile.js";
import { type ApplyOptions, type ApplyResult, applyRetention } from "./core/retention.js";
import type { DriverRegistry } from "./core/types.js";
import { loadMasterKey } from "./crypto/master-key.js";
import { Ledger } from "./ledger/ledger.js";
import { type InclusionProof, proveInclusion } from "./ledger/proof.js";
import { type AuditQuery, auditLog } from "./ledger/query.js";
import type { Checkpoint } from "./ledger/signing.js";
import { newSigningKeyDer, privateKeyFromDer } from "./ledger/signing.js";
import type { LedgerEntry } from "./ledger/types.js";
import { type VerifyResult, verifyLedger } from "./ledger/verify.js";
import { openState, type StateHandle } from "./state/open-state.js";
import { getOrCreateSecret } from "./state/secret-store.js";
import { defaultDrivers } from "./stores/registry.js";

export interface LetheLogger {
  warn(msg: string): void;
  info(msg: string): void;
}

export interface OpenOptions {
  drivers?: DriverRegistry;
  logger?: LetheLogger;
}

const stderrLogger: LetheLogger = {
  warn: (msg) => process.stderr.write(`lethe: warning: ${msg}\n`),
  info: () => undefined,
};

function toConfig(input: string | LetheConfig | Record<string, unknown> | undefined): LetheConfig {
  if (input === undefined || typeof input === "string") return loadConfigFile(input);
  if ("policyHash" in input && "datasets" in input && input.datasets instanceof Map) return input as LetheConfig;
  return parseConfig(input, process.cwd());
}

/**
 * The library entry point.
 *
 * @example
 * const lethe = await openLethe("lethe.yaml");
 * const plan = await lethe.plan();
 * const result = await lethe.apply();
 * await lethe.close();
 */
export async function openLethe(
  input?: string | LetheConfig | Record<string, unknown>,
  opts: OpenOptions = {},
): Promise<Lethe> {
  const config = toConfig(input);
  const logger = opts.logger ?? stderrLogger;
  // Validate every store and dataset before touching lethe's own state or any data.
  const map = await DataMap.open(config, opts.drivers ?? defaultDrivers);
  for (const w of map.warnings) logger.warn(w);
  let state: StateHandle | undefined;
  try {
    state = await openState(config.state);
    const master = loadMasterKey(config, (m) => logger.warn(m));
    const hmacKey = config.secrets.subjectKey
      ? Buffer.from(resolveSecret(config.secrets.subjectKey, config.baseDir))
      : await getOrCreateSecret(state, master, "subject-hmac", () => randomBytes(32));
    const signing = privateKeyFromDer(await getOrCreateSecret(state, master, "ledger-signing", newSigningKeyDer));
    const ledger = new Ledger(state, hmacKey, signing);
    const lethe = new Lethe(config, state, ledger, map, master, logger);
    await reconcile(state, ledger, map);
    return lethe;
  } catch (err) {
    await map.close();
    await state?.close();
    throw err;
  }
}

export class Lethe {
  readonly holds: Holds;

  constructor(
    readonly config: LetheConfig,
    readonly state: StateHandle,
    readonly ledger: Ledger,
    readonly map: DataMap,
    /** Wraps per-subject and workspace keys; never leaves the process. */
    protected readonly masterKey: Buffer,
    readonly logger: LetheLogger,
  ) {
    this.holds = new Holds(state, ledger);
  }

  private deps() {
    return { config: this.config, state: this.state, ledger: this.ledger, holds: this.holds, map: this.map };
  }

  /** Dry run: what would be deleted now. */
  async plan(opts: PlanOptions = {}): Promise<Plan> {
    const holds = await this.holds.active(opts.now);
    return makePlan(this.map, this.ledger, holds, this.config.policyHash, opts);
  }

  /** Deletes expired items (optionally only those of a reviewed plan). */
  async apply(opts: ApplyOptions = {}): Promise<ApplyResult> {
    return applyRetention(this.deps(), opts);
  }

  readonly audit = {
    verify: (checkpoint?: Checkpoint): Promise<VerifyResult> =>
      verifyLedger(this.state, this.ledger.publicKeyPem(), checkpoint),
    log: (q: AuditQuery): Promise<LedgerEntry[]> => auditLog(this.state, this.ledger, q),
    checkpoint: (): Promise<Checkpoint> => this.ledger.checkpoint(),
    prove: async (seq: number): Promise<InclusionProof> =>
      proveInclusion(this.state, seq, await this.ledger.checkpoint()),
    publicKey: (): string => this.ledger.publicKeyPem(),
  };

  async close(): Promise<void> {
    await this.map.close();
    await this.state.close();
  }
}
