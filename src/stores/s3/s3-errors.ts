/** Reading AWS SDK errors without `any`: name, HTTP status, a short safe message. */

interface SdkErrorShape {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function errorName(err: unknown): string {
  const e = err as SdkErrorShape | undefined;
  return e?.name ?? e?.Code ?? "Error";
}

export function httpStatus(err: unknown): number | undefined {
  return (err as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** The server does not implement the operation (s3rver, some S3-compatible stores). */
export function isUnsupported(err: unknown): boolean {
  return ["NotImplemented", "MethodNotAllowed"].includes(errorName(err)) || [405, 501].includes(httpStatus(err) ?? 0);
}

export function isNotFound(err: unknown): boolean {
  return ["NotFound", "NoSuchKey", "NoSuchBucket"].includes(errorName(err)) || httpStatus(err) === 404;
}

export function isAccessDenied(err: unknown): boolean {
  return (
    ["AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"].includes(errorName(err)) ||
    httpStatus(err) === 403
  );
}

/** Credentials or region missing from the SDK's default chain. */
export function isClientConfigProblem(err: unknown): boolean {
  const name = errorName(err);
  const msg = err instanceof Error ? err.message : "";
  return (
    name === "CredentialsProviderError" || /region is missing|region not accepted|could not load credentials/i.test(msg)
  );
}

/**
 * `Code: message`, at most 200 characters, with the object key (and its URL
 * form) replaced: reasons land on the ledger and in logs, and keys may carry
 * subject ids.
 */
export function safeReason(err: unknown, key?: string): string {
  const e = err as SdkErrorShape | undefined;
  const message = err instanceof Error ? err.message : (e?.message ?? String(err));
  return redactKey(`${errorName(err)}: ${message}`, key);
}

export function redactKey(text: string, key?: string): string {
  let out = text;
  if (key) {
    for (const form of new Set([key, encodeURIComponent(key), encodeURI(key)])) out = out.split(form).join("<key>");
  }
  return out.slice(0, 200);
}
