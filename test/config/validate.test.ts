import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";

/** Every store unreachable or unresolvable: validate must not care. */
const OFFLINE = `version: 1
state: ./state-here
stores:
  appdb: { kind: sql, url: "env:LETHE_TEST_UNSET_DB_URL" }
  blobs: { kind: s3, bucket: inference, endpoint: "http://127.0.0.1:9", forcePathStyle: true }
  models: { kind: fs, root: ./does-not-exist }
secrets: { masterKey: "env:LETHE_TEST_UNSET_MASTER" }
redact:
  patterns: [{ name: ticket, regex: "TICKET-[0-9]{6}" }]
datasets:
  logs: { store: appdb, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d }
  uploads: { store: blobs, retention: 1h }
  weights: { store: models, include: ["**/*.pt"], retention: 60d }
`;

describe("lethe validate: offline, writes nothing", () => {
  it("accepts a valid config whose stores are unreachable and secrets unset, creating nothing", async () => {
    const dir = tempDir();
    writeConfig(dir, OFFLINE);
    const r = await letheIn(["validate", "--json"], dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, stores: 3, datasets: 3 });
    const warnings = (r.json as { warnings: string[] }).warnings;
    expect(warnings).toContain("stores.appdb.url: env:LETHE_TEST_UNSET_DB_URL is not set in this environment");
    expect(warnings).toContain("secrets.masterKey: env:LETHE_TEST_UNSET_MASTER is not set in this environment");
    // No state folder, no master key, nothing else.
    expect(readdirSync(dir)).toEqual(["lethe.yaml"]);
    const text = await letheIn(["validate"], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/valid \(3 stores, 3 datasets\)/);
  });

  it("exits 2 naming every bad key path, schema and cross-field rules alike", async () => {
    const dir = tempDir();
    writeConfig(
      dir,
      OFFLINE.replace("retention: 60d", "retenion: 60d").replace(
        "store: blobs, retention: 1h",
        "store: nope, retention: 1h",
      ),
    );
    const r = await letheIn(["validate"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/datasets\.weights/);
    expect(readdirSync(dir)).toEqual(["lethe.yaml"]);
    writeConfig(dir, OFFLINE.replace("store: blobs, retention: 1h", "store: nope, retention: 1h"));
    const rules = await letheIn(["validate", "--config", join(dir, "lethe.yaml")], tempDir());
    expect(rules.code).toBe(2);
    expect(rules.stderr).toContain('datasets.uploads.store: unknown store "nope"');
  });

  it("checks an S3 endpoint given as env:NAME as opening the store would: resolved, an http(s) URL", async () => {
    const dir = tempDir();
    writeConfig(dir, OFFLINE.replace('endpoint: "http://127.0.0.1:9"', "endpoint: env:LETHE_TEST_S3E"));
    const ok = await letheIn(["validate", "--json"], dir, { LETHE_TEST_S3E: "http://127.0.0.1:9" });
    expect(ok.code).toBe(0);
    const unset = await letheIn(["validate", "--json"], dir);
    expect(unset.code).toBe(0);
    expect((unset.json as { warnings: string[] }).warnings).toContain(
      "stores.blobs.endpoint: env:LETHE_TEST_S3E is not set in this environment",
    );
    const bad = await letheIn(["validate"], dir, { LETHE_TEST_S3E: "not a url" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("stores.blobs.endpoint: env:LETHE_TEST_S3E does not hold an http:// or https:// URL");
    expect(bad.stderr).not.toContain("not a url");
    // A literal endpoint that is no http(s) URL is refused by the schema.
    writeConfig(dir, OFFLINE.replace('endpoint: "http://127.0.0.1:9"', 'endpoint: "env://S3E"'));
    const literal = await letheIn(["validate"], dir);
    expect(literal.code).toBe(2);
    expect(literal.stderr).toMatch(/stores\.blobs\.endpoint: expected an http:\/\/ or https:\/\/ URL/);
  });
});

describe("lethe schema and the editor modeline", () => {
  it("prints a JSON Schema that accepts the starter config and refuses a misspelt key", async () => {
    const dir = tempDir();
    const r = await letheIn(["schema"], dir);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const check = ajv.compile(schema);
    expect((await letheIn(["init"], dir)).code).toBe(0);
    const yaml = readFileSync(join(dir, "lethe.yaml"), "utf8");
    expect(yaml.split("\n")[0]).toBe("# yaml-language-server: $schema=./lethe.schema.json");
    expect(JSON.parse(readFileSync(join(dir, "lethe.schema.json"), "utf8"))).toEqual(schema);
    const doc = parseYaml(yaml) as Record<string, Record<string, Record<string, unknown>>>;
    expect(check(doc), JSON.stringify(check.errors)).toBe(true);
    expect(check(parseYaml(OFFLINE)), JSON.stringify(check.errors)).toBe(true);
    // The retention union and duration grammar are described, not left as "anything".
    const logs = { ...doc.datasets?.inference_logs };
    expect(check({ ...doc, datasets: { inference_logs: { ...logs, retention: 30 } } })).toBe(false);
    expect(check({ ...doc, datasets: { inference_logs: { ...logs, retention: "30 days" } } })).toBe(false);
    expect(check({ ...doc, datasets: { inference_logs: { ...logs, retention: { column: "r", unit: "days" } } } })).toBe(
      true,
    );
    const { retention: _r, ...noRetention } = logs;
    expect(check({ ...doc, datasets: { inference_logs: { ...noRetention, retenion: "30d" } } })).toBe(false);
    expect(check({ ...doc, notifications: { webhooks: [{ url: "https://h.example/x", secret: "env:S" }] } })).toBe(
      true,
    );
    expect(check({ ...doc, notifications: { webhooks: [{ url: "https://h.example/x", secret: "inline" }] } })).toBe(
      false,
    );
  });
});

describe("state: takes env:/file: references like every other secret", () => {
  function stateOf(state: string, baseDir: string) {
    return parseConfig({ version: 1, state, stores: {}, datasets: {} }, baseDir).state;
  }

  it("resolves env: and file: to a folder or a postgres URL, never a folder named env:X", async () => {
    const dir = tempDir();
    process.env.LETHE_TEST_STATE_DIR = join(dir, "st");
    process.env.LETHE_TEST_STATE_PG = "postgres://lethe:pw@127.0.0.1:5432/lethe";
    writeFileSync(join(dir, "state-url"), "postgres://lethe:pw@127.0.0.1:5432/other\n");
    try {
      expect(stateOf("env:LETHE_TEST_STATE_DIR", dir)).toEqual({ kind: "sqlite", dir: join(dir, "st") });
      expect(stateOf("env:LETHE_TEST_STATE_PG", dir)).toMatchObject({
        kind: "postgres",
        url: "postgres://lethe:pw@127.0.0.1:5432/lethe",
      });
      expect(stateOf("file:state-url", dir)).toMatchObject({
        kind: "postgres",
        url: "postgres://lethe:pw@127.0.0.1:5432/other",
      });
      expect(stateOf("./plain", dir)).toEqual({ kind: "sqlite", dir: join(dir, "plain") });
    } finally {
      delete process.env.LETHE_TEST_STATE_DIR;
      delete process.env.LETHE_TEST_STATE_PG;
    }
  });

  it("an unset reference is a config error naming state, and the CLI creates nothing", async () => {
    expect(() => stateOf("env:LETHE_TEST_STATE_UNSET", "/tmp")).toThrow(
      /state: secret env:LETHE_TEST_STATE_UNSET: environment variable LETHE_TEST_STATE_UNSET is not set/,
    );
    const dir = tempDir();
    writeConfig(dir, "version: 1\nstate: env:LETHE_TEST_STATE_UNSET\nstores: {}\ndatasets: {}\n");
    const r = await letheIn(["plan"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/state: secret env:LETHE_TEST_STATE_UNSET/);
    expect(readdirSync(dir)).toEqual(["lethe.yaml"]);
    const ok = await letheIn(["plan", "--json"], dir, { LETHE_TEST_STATE_UNSET: join(dir, "real-state") });
    expect(ok.code).toBe(0);
    expect(existsSync(join(dir, "real-state"))).toBe(true);
    expect(readdirSync(dir).some((n) => n.startsWith("env:"))).toBe(false);
  });
});

describe("scan-logs --config reads only redact:", () => {
  it("works with an unset store secret and an unreachable store, using the config's patterns", async () => {
    const dir = tempDir();
    writeConfig(dir, OFFLINE);
    writeFileSync(join(dir, "app.log"), "ok line\nuser opened TICKET-123456 today\n");
    const r = await letheIn(["scan-logs", "app.log", "--json"], dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ counts: { ticket: 1 } });
    expect(readdirSync(dir).sort()).toEqual(["app.log", "lethe.yaml"]);
  });

  it("still refuses a bad redact: section by key path", async () => {
    const dir = tempDir();
    writeConfig(dir, OFFLINE.replace('regex: "TICKET-[0-9]{6}"', 'regex: "(("'));
    writeFileSync(join(dir, "app.log"), "x\n");
    const r = await letheIn(["scan-logs", "app.log"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("redact.patterns.0.regex: not a valid regular expression");
  });
});

describe("durations", () => {
  const base = { version: 1, stores: {}, datasets: {} };
  it("accept ms where sub-second makes sense and refuse it for retention", async () => {
    const cfg = parseConfig({ ...base, transient: { ttl: "500ms" }, server: { leaseTtl: "1500ms" } }, "/tmp");
    expect(cfg.transient.ttlSeconds).toBe(0.5);
    expect(cfg.server.leaseTtlSeconds).toBe(1.5);
    expect(cfg.server.storeRetrySeconds).toBe(15); // the default
    expect(parseConfig({ ...base, server: { storeRetry: "500ms" } }, "/tmp").server.storeRetrySeconds).toBe(0.5);
    // SQLite's busy timeout; another engine has none.
    const sqlite = { kind: "sql", url: "sqlite:./app.db", busyTimeout: "500ms" };
    expect(parseConfig({ ...base, stores: { a: sqlite } }, "/tmp").stores.get("a")).toMatchObject({
      busyTimeoutMs: 500,
    });
    expect(() => parseConfig({ ...base, stores: { a: { ...sqlite, url: "postgres://h/db" } } }, "/tmp")).toThrow(
      /stores\.a\.busyTimeout: only a SQLite store/,
    );
    // Not a hot loop against a store that is down.
    expect(() => parseConfig({ ...base, server: { storeRetry: "0ms" } }, "/tmp")).toThrow(
      /server\.storeRetry: must be at least 100ms/,
    );
    expect(() =>
      parseConfig(
        {
          version: 1,
          stores: { m: { kind: "fs", root: "./m" } },
          datasets: { w: { store: "m", include: ["*.pt"], retention: "500ms" } },
        },
        "/tmp",
      ),
    ).toThrow(ConfigError);
  });
});
