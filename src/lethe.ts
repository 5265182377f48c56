import { randomBytes } from "node:crypto";
import { loadConfigFile, parseConfig } from "./config/load.js";
import { resolveSecret } from "./config/secrets.js";
import type { LetheConfig } from "./config/types.js";
import { DataMap, type StoreSelection, storesNeeded } from "./core/data-map.js";
import { type DiscoverOptions, type DiscoverResult, discover, ownStateTables } from "./core/discover.js";
import { type ErasureDeps, eraseSubjects } from "./core/erasure.js";
import type {
  EraseOptions,
  EraseResult,
  SingleErasure,
  SubjectErasedHook,
  SubjectErasure,
} from "./core/erasure-types.js";
import { Holds } from "./core/holds.js";
import { type JanitorOptions, type JanitorReport, runJanitor } from "./core/janitor.js";
import { makePlan, type Plan, type PlanOptions } from "./core/planner.js";
import { ErasureRequests } from "./core/requests/requests.js";
import { requestSubjectKey } from "./core/requests/subject-box.js";
import { type ApplyOptions, type ApplyResult, applyRetention } from "./core/retention.js";
import { assertNotAliased } from "./core/same-database.js";
import { subjectPatternsOf } from "./core/subject-patterns.js";
import type { DriverRegistry } from "./core/types.js";
import { KeyRing, type KeyRingOptions } from "./crypto/keyring.js";
import { checkMasterKey, masterKeyFingerprint } from "./crypto/master-check.js";
import { loadMasterKey } from "./crypto/master-key.js";
import { Executor } from "./executor/executor.js";
import type { ShreddedFile } from "./executor/shred-paths.js";
import { type MasterRotation, rotateMasterKey } from "./keys/rotate-master.js";
import { deriveChainKey } from "./ledger/head-mac.js";
import { Ledger } from "./ledger/ledger.js";
import { type InclusionProof, proveInclusion, proveItem } from "./ledger/proof.js";
import { type PruneOptions, type PruneResult, pruneLedger } from "./ledger/prune.js";
import { type AuditQuery, auditLog } from "./ledger/query.js";
import { rotateSigningKey, SIGNING_SECRET, type SigningRotation } from "./ledger/rotate-signing.js";
import type { Checkpoint } from "./ledger/signing.js";
import { newSigningKeyDer, privateKeyFromDer } from "./ledger/signing.js";
import type { SigningKeySet } from "./ledger/signing-keys.js";
import type { LedgerEntry } from "./ledger/types.js";
import { type VerifyResult, verifyLedger } from "./ledger/verify.js";
import { withRunNotifications } from "./notify/runs.js";
import { createTextScanner } from "./redact/text-scanner.js";
import { openState, type StateHandle, stateLocation } from "./state/open-state.js";
import { getOrCreateSecret } from "./state/secret-store.js";
import { defaultDrivers } from "./stores/registry.js";
import type { LifecycleSyncResult } from "./stores/s3/lifecycle-sync.js";
import { type CompleteResult, Events, type EventsOptions } from "./transient/events.js";
import { type TransientFn, type TransientOptions, TransientService } from "./transient/workspace-manager.js";

export interface LetheLogger {
  warn(msg: string): void;
  info(msg: string): void;
}

export interface AuditVerifyOptions {
  /** Re-check every entry, not only those after the last verified mark. */
  full?: boolean | undefined;
  /** An exported checkpoint the ledger must still extend. */
  checkpoint?: Checkpoint | undefined;
  /** Store the verified mark (CLI, scheduled and POST runs; never a GET). */
  record?: boolean | undefined;
  /** Run the pass in a worker thread (what `serve` and the CLI do). */
  worker?: boolean | undefined;
  /** The time checkpoint coverage is measured against (default: now). */
  now?: Date | undefined;
}

export interface OpenOptions {
  drivers?: DriverRegistry;
  logger?: LetheLogger;
  /** Key ring tuning (e.g. encryptions per key before rotation). */
  keyring?: KeyRingOptions;
  /** Event queue tuning (attempts, backoff, in-process retries). */
  events?: EventsOptions;
  /**
   * Which stores to connect (default all). A store that cannot be reached is
   * recorded as down (`map.down`) instead of failing the open: its datasets
   * are unavailable, everything else works.
   */
  stores?: StoreSelection;
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
  // Secrets the config names are resolved first: a missing one must fail before anything is created.
  const subjectKey = config.secrets.subjectKey
    ? Buffer.from(resolveSecret(config.secrets.subjectKey, config.baseDir, "secrets.subjectKey"))
    : undefined;
  // Validate every store and dataset before touching lethe's own state or any data.
  // Only the stores this command opens: another store's URL is not resolved (its env: variable may be unset here).
  if (config.state.kind === "sqlite")
    for (const name of storesNeeded(config, opts.stores ?? "all")) {
      const st = config.stores.get(name);
      if (st?.kind === "sql") assertNotAliased(st.name, st.url, stateLocation(config.state));
    }
  const map = await DataMap.open(config, opts.drivers ?? defaultDrivers, opts.stores);
  for (const w of map.warnings) logger.warn(w);
  let state: StateHandle | undefined;
  try {
    state = await openState(config.state, (m) => logger.warn(m));
    const master = loadMasterKey(config, (m) => logger.warn(m));
    // A replaced key (e.g. the one a rotation retired) is refused by name before anything is unwrapped with it.
    await checkMasterKey(state, master);
    const hmacKey = subjectKey ?? (await getOrCreateSecret(state, master, "subject-hmac", () => randomBytes(32)));
    const signing = privateKeyFromDer(await getOrCreateSecret(state, master, SIGNING_SECRET, newSigningKeyDer));
    const ledger = new Ledger(state, hmacKey, signing, deriveChainKey(master));
    ledger.maskSubjectPatterns(subjectPatternsOf(config));
    // Only the open that added the head MAC keys an unkeyed head: a MAC stripped later is tampering.
    await ledger.keyHead();
    await ledger.registerSigningKey();
    const lethe = new Lethe(config, state, ledger, map, master, logger, opts);
    await lethe.executor.reconcile();
    return lethe;
  } catch (err) {
    await map.close();
    await state?.close();
    throw err;
  }
}

/**
 * One lethe instance over a config: plan, apply, erase, holds, requests, events, workspaces and the audit
 * ledger. Made by {@link openLethe} (which checks the config, opens the state and reconciles); close it.
 *
 * @example
 * const lethe = await openLethe(loadConfigFile("lethe.yaml"));
 * try {
 *   const plan = await lethe.plan();
 *   if (plan.datasets.some((d) => d.expired > 0)) await lethe.apply();
 * } finally {
 *   await lethe.close();
 * }
 */
export class Lethe {
  readonly holds: Holds;
  /** Erasure requests: create, list, show, process, extend, receipt. */
  readonly requests: ErasureRequests;
  /**
   * Called once per subject after a complete erasure (nothing held back),
   * e.g. by the key ring to destroy the subject's crypto-shredding key.
   */
  readonly onSubjectErased: SubjectErasedHook[] = [];
  /** Per-subject data keys for crypto-shredding: encrypt, decrypt, destroy. */
  readonly keys: KeyRing;
  /** Durable inference-complete events: enqueue, process, depth (used by the HTTP API). */
  readonly events: Events;
  /** The one deletion path and the only writer of the ledger (src/executor). */
  readonly executor: Executor;
  private readonly transientService: TransientService;
  private requestKey: Promise<Buffer> | undefined;

  constructor(
    readonly config: LetheConfig,
    readonly state: StateHandle,
    readonly ledger: Ledger,
    readonly map: DataMap,
    /** Wraps per-subject and workspace keys; never leaves the process. */
    protected readonly masterKey: Buffer,
    readonly logger: LetheLogger,
    opts: OpenOptions = {},
  ) {
    const executor = new Executor(state, ledger, map);
    this.executor = executor;
    this.holds = new Holds(state, executor, () => this.config.datasets.values());
    this.keys = new KeyRing(state, executor, masterKey, opts.keyring);
    this.transientService = new TransientService({ config, state, ledger: executor, masterKey, logger });
    this.events = new Events(
      {
        state,
        ledger: executor,
        map,
        holds: this.holds,
        masterKey,
        logger,
        maxArtifacts: config.server.limits.maxEventArtifacts,
      },
      opts.events,
    );
    // Erasing a subject also destroys its crypto-shredding keys, so copies in backups become unreadable.
    this.onSubjectErased.push(async (e) => {
      const r = await this.keys.destroy(e.subject, { reason: "erasure", runId: e.runId });
      return r.destroyed > 0 ? { action: "key_destroyed", detail: `${r.destroyed} key version(s)` } : undefined;
    });
    this.requests = new ErasureRequests(
      () => this.erasureDeps(),
      () => {
        this.requestKey ??= requestSubjectKey(this.state, this.masterKey);
        return this.requestKey;
      },
    );
  }

  private erasureDeps(): ErasureDeps {
    return { ...this.deps(), hooks: this.onSubjectErased };
  }

  private deps() {
    return { config: this.config, state: this.state, executor: this.executor, holds: this.holds, map: this.map };
  }

  /** Dry run: what would be deleted now. */
  async plan(opts: PlanOptions = {}): Promise<Plan> {
    const holds = await this.holds.active(opts.now);
    return makePlan(this.config, this.map, this.executor, holds, opts);
  }

  /** Deletes expired items (optionally only those of a reviewed plan). */
  async apply(opts: ApplyOptions = {}): Promise<ApplyResult> {
    return withRunNotifications(this.deps(), opts, () => applyRetention(this.deps(), opts));
  }

  /**
   * Right to erasure. Without `yes` a dry run (counts, one ledger entry). One
   * subject gives that subject's result; an array gives `{ dryRun, subjects }`.
   */
  async erase(subject: string, opts?: EraseOptions): Promise<SingleErasure>;
  async erase(subjects: string[], opts?: EraseOptions): Promise<EraseResult>;
  async erase(input: string | string[], opts: EraseOptions = {}): Promise<EraseResult | SingleErasure> {
    const r = await eraseSubjects(this.erasureDeps(), Array.isArray(input) ? input : [input], opts);
    if (Array.isArray(input)) return r;
    return {
      ...(r.subjects[0] as SubjectErasure),
      ...(r.runId ? { runId: r.runId } : {}),
      ...(r.scrub ? { scrub: r.scrub } : {}),
    };
  }

  /** Tables and columns that look like personal data but are not covered by the data map. */
  async discover(opts: DiscoverOptions = {}): Promise<DiscoverResult> {
    const own = await ownStateTables(this.config);
    const scanner = createTextScanner({ patterns: this.config.redact.patterns, keys: this.config.redact.keys });
    return discover(this.map, {
      scanner,
      ...opts,
      ignore: (st, t) => own(st, t) || (opts.ignore?.(st, t) ?? false),
    });
  }

  readonly audit = {
    /**
     * Verifies the entries after the last verified mark (`full`: all of them); `worker: true` runs the
     * pass in a worker thread; `record` stores how far it verified. Checkpoint coverage per `ledger.checkpointEvery`.
     */
    verify: (opts: AuditVerifyOptions = {}): Promise<VerifyResult> =>
      verifyLedger(this.state, this.ledger, {
        full: opts.full,
        checkpoint: opts.checkpoint,
        record: opts.record,
        worker: opts.worker ? this.config.state : undefined,
        checkpointEverySeconds: this.config.ledger.checkpointEverySeconds,
        now: opts.now,
      }),
    log: (q: AuditQuery): Promise<LedgerEntry[]> => auditLog(this.state, this.ledger, q),
    checkpoint: (): Promise<Checkpoint> => this.ledger.checkpoint(),
    /** An inclusion proof for entry `seq`; with `item`, for that item of a batch entry (its path within the batch too). */
    prove: async (seq: number, item?: number): Promise<InclusionProof> => {
      const itemPath = item === undefined ? undefined : await proveItem(this.state, this.ledger.saltKey, seq, item);
      const proof = await proveInclusion(this.state, seq, await this.ledger.checkpoint());
      return itemPath ? { ...proof, item: itemPath } : proof;
    },
    publicKey: (): string => this.ledger.publicKeyPem(),
    /** Removes entries recorded before `before`, keeping a signed anchor; a dry run without `yes`. */
    prune: (opts: PruneOptions): Promise<PruneResult> => pruneLedger(this.state, this.ledger, opts),
  };

  /**
   * Key rotation (`lethe keys …`, docs/state.md "Rotating keys"), each
   * recorded on the ledger. Run with every other lethe process stopped; this
   * instance holds the old keys afterwards, so close it and open again.
   */
  readonly keyRotation = {
    /** Re-wraps everything under `newKey` and re-keys the ledger head, in one transaction. */
    master: (newKey: Buffer, onProgress?: (table: string, rows: number) => void): Promise<MasterRotation> =>
      rotateMasterKey({ state: this.state, executor: this.executor }, this.masterKey, newKey, onProgress),
    /** A new Ed25519 key signs from now on; the old one stays trusted for what it signed before. */
    signing: (): Promise<SigningRotation> => rotateSigningKey(this.state, this.ledger, this.masterKey),
    /** Every signing key (current and retired) whose signatures verify. */
    signingKeys: (): Promise<SigningKeySet> => this.ledger.signingKeys(),
    /** The master key's fingerprint (never the key). */
    masterFingerprint: (): string => masterKeyFingerprint(this.masterKey),
  };

  /**
   * Runs `fn` in a private, encrypted, per-request workspace that is shredded
   * when `fn` returns, throws or runs past `ttl` (then the call rejects with
   * TIMEOUT and `fn`'s AbortSignal fires).
   */
  transient<T>(requestId: string, fn: TransientFn<T>, opts: TransientOptions = {}): Promise<T> {
    return this.transientService.run(requestId, fn, opts);
  }

  /** Inference complete: durably records the event, then deletes its artifacts at once. */
  complete(event: {
    requestId: string;
    artifacts: { dataset: string; key: string | number }[];
  }): Promise<CompleteResult> {
    return this.events.complete(event);
  }

  /** Finds what escaped (overdue items, orphaned workspaces, stale leases, failed events); `apply` fixes it. */
  janitor(opts: JanitorOptions = {}): Promise<JanitorReport> {
    return runJanitor(
      { ...this.deps(), transient: this.transientService, events: this.events, logger: this.logger },
      opts,
    );
  }

  /** Overwrites, syncs and unlinks files, each outcome on the ledger (`lethe shred`). */
  shred(paths: string[]): Promise<ShreddedFile[]> {
    return this.executor.shredPaths(paths);
  }

  /** Writes (with `dryRun`: only plans) bucket lifecycle rules mirroring each s3 dataset's retention. */
  async lifecycleSync(opts: { dryRun?: boolean } = {}): Promise<LifecycleSyncResult> {
    // Imported on demand so the AWS SDK loads only when it is used.
    const { lifecycleSync } = await import("./stores/s3/lifecycle-sync.js");
    return lifecycleSync(this.config, this.holds, opts);
  }

  /** The transient workspace root in use (configured, /dev/shm/lethe, or the temp dir). */
  get transientRoot(): string {
    return this.transientService.root;
  }

  async close(): Promise<void> {
    await this.transientService.closeAll();
    await this.events.close();
    await this.map.close();
    await this.state.close();
  }
}
