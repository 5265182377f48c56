import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/** SQLAlchemy's SQLite timestamp format: `YYYY-MM-DD HH:MM:SS.ffffff`, UTC. */
export function sqlalchemyTs(d: Date): string {
  return `${d.toISOString().replace("T", " ").slice(0, 23)}000`;
}

export interface DemoData {
  dir: string;
  config: string;
  logs: number;
  records: number;
  checkpoints: number;
  keepers: string[];
}

const DAY = 86_400_000;
const MODELS = ["llama-3-8b", "mistral-7b", "clinical-bert"];

/** A deterministic pseudo-random stream, so every demo tells the same story. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Builds the classic AI data set the demo runs on: `training_records` and
 * `inference_logs` in SQLite over the last 120 days, and a model-artifacts
 * tree whose configs and READMEs must survive.
 */
export function buildDemo(dir: string, now = new Date()): DemoData {
  const rand = rng(42);
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, "ai_data.db"));
  db.exec(`
    create table training_records (id integer primary key, dataset_name text not null, user_id text not null,
      file_path text, created_at text not null, retention_days integer not null);
    create table inference_logs (id integer primary key, model_name text not null, user_id text not null,
      prompt_text text, response_text text, created_at text not null, retention_days integer not null);
    create index training_records_user on training_records (user_id);
    create index training_records_created on training_records (created_at);
    create index inference_logs_user on inference_logs (user_id);
    create index inference_logs_created on inference_logs (created_at);`);
  const models = join(dir, "data", "models");
  mkdirSync(join(models, "training"), { recursive: true });
  const insRec = db.prepare("insert into training_records values (?, ?, ?, ?, ?, 90)");
  const insLog = db.prepare("insert into inference_logs values (?, ?, ?, ?, ?, ?, 30)");
  const records = 1000;
  const logs = 3000;
  db.transaction(() => {
    for (let i = 1; i <= records; i++) {
      const at = new Date(now.getTime() - rand() * 120 * DAY);
      const file = `training/record-${String(i).padStart(5, "0")}.npz`;
      writeFileSync(join(models, file), `features of record ${i}`);
      insRec.run(i, `ds-${i % 7}`, `user-${1 + Math.floor(rand() * 200)}`, file, sqlalchemyTs(at));
    }
    for (let i = 1; i <= logs; i++) {
      const at = new Date(now.getTime() - rand() * 120 * DAY);
      const user = `user-${1 + Math.floor(rand() * 200)}`;
      insLog.run(i, MODELS[i % 3] as string, user, `prompt #${i} from ${user}`, `response #${i}`, sqlalchemyTs(at));
    }
  })();
  db.close();

  const keepers: string[] = [];
  let checkpoints = 0;
  for (let run = 1; run <= 8; run++) {
    const runDir = join(models, "checkpoints", `run-${run}`);
    mkdirSync(runDir, { recursive: true });
    const mtime = new Date(now.getTime() - run * 15 * DAY);
    for (const name of ["model.pt", "model.onnx", "weights.safetensors"]) {
      writeFileSync(join(runDir, name), Buffer.alloc(4096, run));
      utimesSync(join(runDir, name), mtime, mtime);
      checkpoints++;
    }
    for (const name of ["config.json", "README.md"]) {
      writeFileSync(join(runDir, name), name.endsWith(".json") ? `{"run": ${run}}\n` : `# run ${run}\n`);
      utimesSync(join(runDir, name), mtime, mtime);
      keepers.push(join(runDir, name));
    }
  }
  const config = join(dir, "lethe.yaml");
  writeFileSync(
    config,
    `# Written by lethe demo.
version: 1
state: ./.lethe
stores:
  appdb: { kind: sql, url: "sqlite:./ai_data.db" }
  models: { kind: fs, root: ./data/models }
datasets:
  inference_logs:
    store: appdb
    table: inference_logs
    key: id
    subject: user_id
    createdAt: created_at
    retention: { column: retention_days }
  training_records:
    store: appdb
    table: training_records
    key: id
    subject: user_id
    createdAt: created_at
    retention: { column: retention_days }
    files: { column: file_path, store: models }
    derived: [checkpoints]
  checkpoints:
    store: models
    include: ["checkpoints/**/*.{pt,pth,onnx,safetensors,bin,pkl}"]
    retention: 60d
    action: shred
`,
  );
  return { dir, config, logs, records, checkpoints, keepers };
}
