// pg exports its lib/ folder but @types/pg does not describe this class: the fields lethe reads.
declare module "pg/lib/connection-parameters.js" {
  /** Where the pg client will connect for a config: the URL, then PG* environment variables, then pg.defaults. */
  export default class ConnectionParameters {
    constructor(config: string);
    user?: string;
    database?: string;
    port: number;
    host?: string;
    options?: string;
  }
}
