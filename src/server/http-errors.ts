import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isLetheError, LetheError } from "../core/errors.js";
import type { ServerLog } from "./context.js";
import { httpStatus } from "./http-status.js";

/** Fastify's own errors (body parsing, limits, routing) as lethe errors with stable codes. */
function fromFastify(err: FastifyError): LetheError | undefined {
  const status = err.statusCode ?? 0;
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE" || status === 413)
    return new LetheError("PAYLOAD_TOO_LARGE", "the request body is larger than the server's body limit");
  if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || status === 415)
    return new LetheError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  if (err.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return new LetheError("VALIDATION", "the JSON body is empty");
  if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError)
    return new LetheError("VALIDATION", "the body is not valid JSON");
  if (status === 404) return new LetheError("NOT_FOUND", "no such endpoint");
  if (status >= 400 && status < 500) return new LetheError("VALIDATION", err.message);
  return undefined;
}

export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}

/**
 * Every error leaves as `{"error": {"code", "message"}}` with the status from
 * `http-status.ts`. Unexpected errors are logged (through the redacting
 * logger) and answered without their message, which might carry data.
 */
export function errorHandler(log: ServerLog) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const e = isLetheError(err) ? err : fromFastify(err);
    if (e) {
      void reply.status(httpStatus(e.code)).send(errorBody(e.code, e.message));
      return;
    }
    log.error({ err, route: req.routeOptions.url ?? "(none)", method: req.method }, "request failed");
    void reply
      .status(httpStatus("INTERNAL"))
      .send(errorBody("INTERNAL", "an unexpected internal error (see the server log)"));
  };
}
