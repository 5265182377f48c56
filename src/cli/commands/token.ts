import type { Command } from "commander";
import { loadConfigFile } from "../../config/load.js";
import { loadMasterKey } from "../../crypto/master-key.js";
import { deriveChainKey } from "../../ledger/head-mac.js";
import { keyHeadAfterMigration } from "../../ledger/key-head.js";
import { parseScopes, TokenStore } from "../../server/tokens.js";
import { openState, type StateHandle } from "../../state/open-state.js";
import { cliWarn } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type CommandResult, type GlobalOptions, result } from "../result.js";

/** Tokens live in lethe's state only; no store needs to be reachable to manage them. */
async function withTokens<T>(opts: GlobalOptions, fn: (tokens: TokenStore) => Promise<T>): Promise<T> {
  const config = loadConfigFile(opts.config);
  const state: StateHandle = await openState(config.state);
  // This command may be the one that applies the head-MAC migration: key the head like any other open.
  await keyHeadAfterMigration(state, () => deriveChainKey(loadMasterKey(config, cliWarn)));
  try {
    return await fn(new TokenStore(state, 0));
  } finally {
    await state.close();
  }
}

export async function tokenCreate(tokens: TokenStore, scopesArg: string, label?: string): Promise<CommandResult> {
  const t = await tokens.create(parseScopes(scopesArg), label);
  return result(
    { id: t.id, token: t.token, scopes: t.scopes },
    [
      `Token ${t.id} (scopes: ${t.scopes.join(", ")}). It is shown only now; lethe keeps its SHA-256 only:`,
      "",
      `  ${t.token}`,
    ].join("\n"),
  );
}

/** `lethe token create|list|revoke`: API tokens for `lethe serve`. */
export function registerToken(program: Command, run: Runner): void {
  const token = program.command("token").description("API tokens for lethe serve (shown once, stored hashed)");

  token
    .command("create")
    .description("create a token")
    .requiredOption("--scopes <list>", "comma-separated: read, erasure:write, events:write, admin")
    .option("--label <text>", "a note on what the token is for")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { scopes: string; label?: string }>();
        parseScopes(o.scopes);
        return withTokens(o, (tokens) => tokenCreate(tokens, o.scopes, o.label));
      }),
    );

  token
    .command("list")
    .description("tokens with their scopes (never the secrets)")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withTokens(o, async (tokens) => {
          const list = await tokens.list();
          const rows: string[][] = [["id", "scopes", "created", "revoked", "label"]];
          for (const t of list) rows.push([t.id, t.scopes.join(","), t.createdAt, t.revokedAt ?? "", t.label ?? ""]);
          return result({ tokens: list }, list.length ? table(rows) : "No tokens.");
        });
      }),
    );

  token
    .command("revoke <id>")
    .description("revoke a token (running servers stop accepting it within 2 seconds)")
    .action((id: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withTokens(o, async (tokens) => {
          await tokens.revoke(id);
          return result({ id, revoked: true }, `Token ${id} revoked.`);
        });
      }),
    );
}
