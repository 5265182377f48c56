import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
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
      const retry = isLetheError(e) ? e.details?.retryAfter : undefined;
      if (typeof retry === "number") void reply.header("retry-after", String(retry));
      void reply.status(httpStatus(e.code)).send(errorBody(e.code, e.message));
      return;
    }
    log.error({ err, route: req.routeOptions.url ?? "(none)", method: req.method }, "request failed");
    void reply
      .status(httpStatus("INTERNAL"))
      .send(errorBody("INTERNAL", "an unexpected internal error (see the server log)"));
  };
}

/**
 * Fastify's `frameworkErrors`: errors met before a route runs (a path with
 * bad percent-encoding, an over-long path parameter), answered in lethe's
 * error shape instead of Fastify's.
 */
export function frameworkErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e =
    err.code === "FST_ERR_BAD_URL"
      ? new LetheError("VALIDATION", "the request path is not a valid URL (bad percent-encoding)")
      : err.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? new LetheError("VALIDATION", "a path parameter is too long")
        : new LetheError("INTERNAL", "an unexpected internal error (see the server log)");
  void reply.status(httpStatus(e.code)).send(errorBody(e.code, e.message));
}

/** What the HTTP parser's error codes answer: status, lethe code and message. */
function clientError(code: string | undefined): { status: number; code: ErrorCode; message: string } {
  if (code === "HPE_HEADER_OVERFLOW")
    // 431 rather than the code's 400: the status tells clients and proxies exactly what to shrink.
    return { status: 431, code: "VALIDATION", message: "the request headers are larger than the server accepts" };
  if (code === "ERR_HTTP_REQUEST_TIMEOUT")
    return { status: 408, code: "TIMEOUT", message: "the request was not received in time" };
  return {
    status: httpStatus("VALIDATION"),
    code: "VALIDATION",
    message: "malformed HTTP request (request line or headers)",
  };
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses (headers
 * too large, a header without a colon, a non-numeric Content-Length, …) never
 * reach Fastify's error handler, so the answer is written on the socket here,
 * in the same `{"error": {"code", "message"}}` shape, and the connection is
 * closed (the parser cannot resync).
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  // Part of a response already sent on this connection: another status line would corrupt it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const e = clientError(err.code);
    const body = JSON.stringify(errorBody(e.code, e.message));
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? "Error"}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
  socket.destroy();
}
