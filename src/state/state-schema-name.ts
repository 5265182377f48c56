/**
 * The PostgreSQL schema that holds every table, index, trigger and function
 * of lethe's state. The one place that knows its name: the state's
 * connections resolve unqualified names to it (search_path, see
 * pg-state-schema.ts), so lethe's tables can never be confused with an
 * application's tables of the same name (`events`, `runs`, `ledger`, …) in
 * the same database. No imports: cheap for any module to read.
 *
 * @example
 * `${STATE_SCHEMA}.ledger`; // "lethe.ledger"
 */
export const STATE_SCHEMA = "lethe";

/**
 * The schema an unqualified table name of the user's means, given the
 * existing schemas of their connection's search_path (`current_schemas(false)`):
 * the first that is not lethe's (a role named "lethe" finds lethe's schema
 * first through `"$user"`), "public" when there is none. Where a dataset's
 * unqualified table lives, and where earlier versions created lethe's state.
 *
 * @example
 * userSchema(["lethe", "public"]); // "public"
 */
export function userSchema(searchPath: readonly string[]): string {
  return searchPath.find((s) => s !== STATE_SCHEMA) ?? "public";
}
