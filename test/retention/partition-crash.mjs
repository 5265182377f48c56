// Child process for partitions.test.ts: runs retention in the current folder and dies by SIGKILL
// at a chosen point of the first partition drop: "items" after two recorded chunks of keys, "digests"
// with the partitions detached and before their key digests, "drop" once every key is recorded (or
// digested), right before the DROP. Uses the built library (npm run build first).
import { openLethe } from "../../dist/index.js";
import { defaultDrivers } from "../../dist/stores/registry.js";

const crashAt = process.argv[2];
const die = () => process.kill(process.pid, "SIGKILL");

function wrap(parts) {
  const items = parts.items.bind(parts);
  parts.items = async function* (p, n, after) {
    let chunks = 0;
    for await (const batch of items(p, n, after))
      for (let i = 0; i < batch.length; i += 10) {
        if (crashAt === "items" && chunks === 2) die();
        chunks++;
        yield batch.slice(i, i + 10);
      }
  };
  const digests = parts.digests.bind(parts);
  parts.digests = async (ps) => {
    if (crashAt === "digests" && ps.length > 0) die();
    return digests(ps);
  };
  const drop = parts.drop.bind(parts);
  parts.drop = async (p) => {
    if (crashAt === "drop") die();
    return drop(p);
  };
}

const drivers = {
  ...defaultDrivers,
  sql: async (config) => {
    const store = await defaultDrivers.sql(config);
    const dataset = store.dataset.bind(store);
    return {
      ...store,
      dataset: async (ds, issues) => {
        const d = await dataset(ds, issues);
        if (d?.partitions) wrap(d.partitions);
        return d;
      },
    };
  },
};

const lethe = await openLethe("lethe.yaml", { drivers });
await lethe.apply({ force: true });
await lethe.close();
process.exit(0);
