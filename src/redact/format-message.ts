/**
 * printf-style interpolation with pino's semantics (`%s %d %i %f %j %o %O %%`,
 * surplus arguments ignored). The logger formats messages itself so the
 * finished string can be redacted: `"%s@%s"` with `"jane"`, `"example.com"`
 * only becomes an email after interpolation.
 *
 * @example
 * formatMessage("user %s took %dms", ["u1", 12]); // "user u1 took 12ms"
 */
export function formatMessage(template: string, args: readonly unknown[]): string {
  if (args.length === 0) return template;
  let out = "";
  let last = 0;
  let a = 0;
  for (let i = 0; i < template.length - 1; i++) {
    if (template.charCodeAt(i) !== 37) continue;
    const spec = template.charAt(i + 1);
    let piece: string | undefined;
    if (spec === "%") piece = "%";
    else if (a < args.length && "sdfijoO".includes(spec)) piece = convert(spec, args[a++]);
    if (piece === undefined) continue;
    out += template.slice(last, i) + piece;
    last = i + 2;
    i++;
  }
  return out + template.slice(last);
}

function convert(spec: string, arg: unknown): string | undefined {
  switch (spec) {
    case "s":
      return String(arg);
    case "d":
    case "f":
      return arg == null ? undefined : String(Number(arg));
    case "i":
      return arg == null ? undefined : String(Math.floor(Number(arg)));
    case "j":
    case "o":
    case "O":
      if (arg === undefined) return undefined;
      if (typeof arg === "string") return `'${arg}'`;
      if (typeof arg === "function") return arg.name || "<anonymous>";
      return stringify(arg);
    default:
      return undefined;
  }
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "undefined";
  } catch {
    return '"[Circular]"';
  }
}
