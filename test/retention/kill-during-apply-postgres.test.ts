import { describe, it } from "vitest";
import { rawPg } from "../conformance/sql-fixture.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { crashLoop, seed } from "./kill-during-apply.js";

describe("kill -9 during apply", () => {
  it("PostgreSQL target, PostgreSQL state: ledger and data agree after every crash", async (ctx) => {
    requireService(ctx, "pg");
    const target = await createTestPgDatabase();
    const state = await createTestPgDatabase();
    const raw = rawPg(target.url);
    await seed(raw, "pg");
    await crashLoop(target.url, state.url, raw);
    await raw.close();
    await target.drop();
    await state.drop();
  }, 300_000);
});
